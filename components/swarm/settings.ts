// The swarm part of the stack's config, and the order its managers restart in.
import { Problems, section, str, unknownKeys } from "../shared/fields";
import { Role } from "../host/settings";

export interface SwarmSettings {
    /** "mode": Docker's built-in swarm mode. */
    flavor: "mode";
}

export function parseSwarm(p: Problems, raw: unknown): SwarmSettings {
    const s = section(p, "swarm", raw);
    unknownKeys(p, "swarm", s, ["flavor"]);
    const flavor = str(p, "swarm.flavor", s.flavor, "mode");
    if (flavor !== "mode") {
        p.error("swarm.flavor", `unknown flavor "${flavor}"`, 'use "mode" (Docker\'s built-in swarm mode)');
    }
    return { flavor: "mode" };
}

/**
 * The turns swarm managers' dockerd restarts take, one at a time: the first manager (where the
 * swarm began) last. Workers take turns from Consul KV instead (a dead worker holds back no one).
 */
export function managerRestartOrder<H extends { roles: Role[] }>(hosts: H[]): H[] {
    const managers = hosts.filter((h) => h.roles.includes("swarm-manager"));
    return [...managers.slice(1), ...managers.slice(0, 1)];
}

