// What the Swarm part shares and parses: where it keeps its join data in Consul KV, the node list.

/** Where the swarm publishes its manager address, join tokens and cluster id. */
export const SWARM_KV_PREFIX = "consul-swarm/swarm";

/** Parses `node=HOSTNAME STATUS AVAILABILITY MANAGER` lines from the swarm verify script. */
export function parseSwarmNodes(stdout: string): { hostname: string; status: string; availability: string; manager: string }[] {
    return stdout
        .split("\n")
        .filter((l) => l.startsWith("node="))
        .map((l) => {
            const [hostname, status, availability, manager] = l.slice("node=".length).trim().split(/\s+/);
            return { hostname, status, availability, manager: manager ?? "" };
        })
        .sort((a, b) => a.hostname.localeCompare(b.hostname));
}
