import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ConsulServer } from "./consulAgent";
import { CONSUL_TOKEN_FILE } from "./render";
import { renderScript } from "../shared/script";

/** What this datacenter knows of the primary it joins (read from the primary's stack outputs). */
export interface PrimaryDatacenter {
    /** The primary's datacenter name: authoritative for ACLs (primary_datacenter). */
    datacenter: pulumi.Input<string>;
    /** The primary's servers, node name → address. */
    servers: pulumi.Input<Record<string, string>>;
    /** The Consul release the primary runs (a federation runs one minor version). */
    version: pulumi.Input<string>;
}

export interface WanFederationArgs {
    /** This datacenter's name. */
    datacenter: string;
    /** The release this datacenter runs. */
    version: string;
    primary: PrimaryDatacenter;
    /** The server the step runs on, and every server of this datacenter (their WAN names). */
    seed: ConsulServer;
    servers: ConsulServer[];
    /** Membership of this datacenter (the join step's own rule): a change joins again. */
    membership: pulumi.Input<unknown>[];
    /** Bound on the wait for the WAN pool, in seconds. */
    waitSeconds: number;
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * A secondary datacenter's WAN join to the primary: `consul join -wan` to the primary's servers
 * from the seed server, re-run whenever either side's servers change, done once every server of
 * both datacenters is alive in the WAN pool. What a policy reads: both datacenters' names and
 * releases, and that RPC between them is TLS (a federation has it always).
 */
export class WanFederation extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:consul:WanFederation";

    readonly join: command.remote.Command;
    /** `name.datacenter` of every WAN member and its status, as the join step last saw them. */
    readonly members: pulumi.Output<{ name: string; address: string; status: string }[]>;

    constructor(name: string, args: WanFederationArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts = {
            datacenter: args.datacenter,
            primaryDatacenter: args.primary.datacenter,
            version: args.version,
            primaryVersion: args.primary.version,
            tls: true,
        };
        super(WanFederation.type, name, facts, opts);
        const primaryServers = pulumi.output(args.primary.servers);
        const script = pulumi.all([primaryServers, args.primary.datacenter]).apply(([servers, primaryDc]) => {
            const names = Object.keys(servers).sort();
            return renderScript(
                "consul-wan-join",
                {
                    EXPECTED_WAN_MEMBERS: [
                        ...names.map((n) => `${n}.${primaryDc}`),
                        ...args.servers.map((s) => `${s.host.name}.${args.datacenter}`).sort(),
                    ].join(" "),
                    PRIMARY_ADDRESSES: names.map((n) => servers[n]).join(" "),
                    TOKEN_FILE: CONSUL_TOKEN_FILE,
                    WAIT_SECONDS: args.waitSeconds,
                },
                ["retry-lib"],
            );
        });
        this.join = args.seed.host.step(`${name}-join`, this, {
            create: script,
            identity: [primaryServers, ...args.membership],
            after: args.dependsOn,
        });
        this.members = this.join.stdout.apply((out) =>
            (out ?? "")
                .split("\n")
                .filter((l) => l.startsWith("wan_member="))
                .map((l) => {
                    const [n, address, status] = l.slice("wan_member=".length).trim().split(/\s+/);
                    return { name: n, address, status };
                })
                .sort((a, b) => a.name.localeCompare(b.name)),
        );
        this.registerOutputs({ ...facts, members: this.members });
    }
}
