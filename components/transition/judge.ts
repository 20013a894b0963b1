// A config change is a move from the cluster the stack last applied to a new one. Each resource
// is careful on its own, but some moves cannot be made by rolling the new config through the
// hosts: they are refused here, as a whole, before any step runs, with the safe way to get there.
// Pure: the provider of ClusterTransition runs it at `preview` and `up` with the old and new shapes.

/** What the judgement needs of a cluster: plain values, the same in the config and in state. */
export interface ClusterShape {
    datacenter: string;
    /** Consul TLS material on the agents (stages 1 to 3, see consul/tlsStages.ts). */
    consulTls: boolean;
    /** Set only between off and on (1 or 2), while consul.tls is being switched. */
    consulTlsStage?: number;
    /** ACLs on the agents (stages 1 and 2, see consul/aclStages.ts). */
    consulAcl: boolean;
    /** Set only at 1 (default allow), while consul.acl is being switched. */
    consulAclStage?: number;
    consulVersion: string;
    /** Consul servers, node name → address. */
    servers: Record<string, string>;
    /** Swarm managers and workers, node name → address. */
    swarmManagers: Record<string, string>;
    swarmWorkers: Record<string, string>;
    /** The first swarm manager (it made the swarm and publishes its join tokens); absent in shapes applied before it was kept. */
    firstSwarmManager?: string;
    /** Every host, name → address. */
    hosts: Record<string, string>;
}

export interface Refusal {
    /** The config field, as the user writes it. */
    field: string;
    /** old → new, why, and the safe path. */
    reason: string;
}

/** The TLS stage of a shape: the one recorded mid-move, else off (0) or verified (3). */
function tlsStageOf(shape: ClusterShape): number {
    return shape.consulTlsStage ?? (shape.consulTls ? 3 : 0);
}

/** The ACL stage of a shape: the one recorded mid-move, else off (0) or deny (2). */
function aclStageOf(shape: ClusterShape): number {
    return shape.consulAclStage ?? (shape.consulAcl ? 2 : 0);
}

function minor(version: string): [number, number] | undefined {
    const m = /^(\d+)\.(\d+)\./.exec(version);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Servers that leave the raft peer set: their addresses serve no server in the new shape. */
function leavingServers(applied: ClusterShape, next: ClusterShape): string[] {
    const staying = new Set(Object.values(next.servers));
    return Object.entries(applied.servers)
        .filter(([, address]) => !staying.has(address))
        .map(([name]) => name)
        .sort();
}

/**
 * The changes from `applied` (what the stack last made) to `next` that cannot be made in place or
 * by a roll: each with the field, old → new, why, and the safe path. Nothing applied yet (a first
 * up): nothing to judge.
 */
export function judgeTransition(applied: ClusterShape | undefined, next: ClusterShape): Refusal[] {
    if (applied === undefined || Object.keys(applied.servers ?? {}).length === 0) {
        return [];
    }
    const refusals: Refusal[] = [];
    if (applied.datacenter !== next.datacenter) {
        refusals.push({
            field: "datacenter",
            reason:
                `${applied.datacenter} → ${next.datacenter}: a running cluster cannot be renamed; each server would restart into a datacenter of its own and never rejoin. ` +
                `Keep datacenter ${applied.datacenter}; for a cluster named ${next.datacenter}, make a new stack with that datacenter, join it to this one over the WAN (federation.primaryStack), move the data (npm run snapshot), then destroy this stack.`,
        });
    }
    const tlsFrom = tlsStageOf(applied);
    const tlsTo = tlsStageOf(next);
    if (Math.abs(tlsFrom - tlsTo) > 1) {
        refusals.push({
            field: "consul.tls",
            reason:
                `TLS stage ${tlsFrom} → ${tlsTo}: a running cluster moves one stage per up (a server restarted two stages on cannot talk RPC to those not restarted yet). ` +
                `The program takes the next stage from the stack's own consulTlsStage output, which must be missing or edited here: run \`pulumi up\` with consul.tls: ${tlsFrom >= 1} once (nothing changes), then switch it.`,
        });
    }
    const aclFrom = aclStageOf(applied);
    const aclTo = aclStageOf(next);
    if (Math.abs(aclFrom - aclTo) > 1) {
        refusals.push({
            field: "consul.acl",
            reason:
                `ACL stage ${aclFrom} → ${aclTo}: a running cluster moves one stage per up (default deny at once locks every agent out until it has a token). ` +
                `The program takes the next stage from the stack's own consulAclStage output, which must be missing or edited here: run \`pulumi up\` with consul.acl: ${aclFrom >= 1} once (nothing changes), then switch it.`,
        });
    }
    const leaving = leavingServers(applied, next);
    const serverCount = Object.keys(applied.servers).length;
    const tolerance = Math.floor((serverCount - 1) / 2);
    if (leaving.length > tolerance) {
        refusals.push({
            field: "hosts",
            reason:
                `this change takes ${leaving.length} of the ${serverCount} Consul servers out at once: ${leaving.join(" ")}; a cluster of ${serverCount} keeps its quorum losing at most ${tolerance}. ` +
                `Take out at most ${tolerance} server(s) per up, each after the cluster is healthy again, or add servers first.`,
        });
    }
    for (const [name, address] of Object.entries(applied.hosts)) {
        const now = next.hosts[name];
        if (now !== undefined && now !== address) {
            refusals.push({
                field: `hosts[${name}].address`,
                reason:
                    `${address} → ${now}: the stack knows a host by its address; changed in place, the old address's deletes (leave, wipe, swarm leave) would run against a machine the new steps already use. ` +
                    `Take ${name} out of hosts in one up, then add it back with address ${now} in the next.`,
            });
        }
    }
    // A worker made a manager, or a manager a worker, is promoted or demoted in place by the first
    // manager; but the first manager must be one already: a worker cannot take the swarm over.
    const first = next.firstSwarmManager;
    if (first !== undefined && applied.swarmWorkers[first] !== undefined && applied.swarmWorkers[first] === next.swarmManagers[first]) {
        const now = Object.keys(applied.swarmManagers)[0];
        refusals.push({
            field: `hosts[${first}].roles`,
            reason:
                `${first} would be the first swarm manager (the first host with swarm-manager), but it is a swarm worker now, and a worker cannot take the swarm over. ` +
                `Give ${first} swarm-manager after ${applied.firstSwarmManager ?? now ?? "the first manager"} in one up (it is promoted), then list it first or take the old first manager out in the next.`,
        });
    }
    const from = minor(applied.consulVersion);
    const to = minor(next.consulVersion);
    if (from && to && (from[0] !== to[0] || Math.abs(from[1] - to[1]) > 1 || to[1] < from[1])) {
        const down = to[0] < from[0] || (to[0] === from[0] && to[1] < from[1]);
        refusals.push({
            field: "consul.version",
            reason: down
                ? `${applied.consulVersion} → ${next.consulVersion}: a downgrade across minor versions is not supported by Consul (the raft and state store formats only go forward). Restore the snapshot taken before the last upgrade into a cluster of ${next.consulVersion} instead (npm run snapshot -- restore).`
                : `${applied.consulVersion} → ${next.consulVersion}: an upgrade that skips a minor version; Consul upgrades one minor version at a time. Upgrade to ${from[0]}.${from[1] + 1}.x first, then on.`,
        });
    }
    return refusals;
}

/** One line per refusal, as the preview shows it. */
export function refusalMessage(refusals: Refusal[]): string {
    return (
        `consul-swarm: this change cannot be applied to the running cluster; nothing was changed on any host:\n` +
        refusals.map((r) => `  - ${r.field}: ${r.reason}`).join("\n")
    );
}
