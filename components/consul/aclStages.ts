// Consul ACLs switched on or off on a running cluster. Turned on with default deny at once, every
// agent and every client of the API would be locked out until each had a token; turned off at
// once, the stack's own steps would send tokens half-way through. Consul's path: ACLs on with
// default allow everywhere first (tokens made once the servers bootstrap them), then deny; off in
// the reverse order. One stage per `up`, recorded in the stack's consulAclStage output.
import { stagedSwitch, stageNotice, stepToward } from "../transition/stages";

/** 0: no ACLs. 1: ACLs on with default allow, every token made. 2: default deny (the steady state with consul.acl). */
export type ConsulAclStage = 0 | 1 | 2;

export const [CONSUL_ACL_OFF, CONSUL_ACL_ALLOW, CONSUL_ACL_DENY]: readonly ConsulAclStage[] = [0, 1, 2];

const ACL_SWITCH = stagedSwitch("consul.acl", "Consul's path: tokens everywhere while the default still allows, then deny", [
    "no ACLs",
    "ACLs on with default allow: the management token bootstrapped, every agent's and swarm host's token made, anything without a token still allowed",
    "default deny: only a token's rules allow",
]);

/** Where ACLs stand at an `up`: the stage the last one left (undefined: a new cluster) and the one this one applies. */
export interface ConsulAclMove {
    applied?: ConsulAclStage;
    next: ConsulAclStage;
}

function isStage(v: unknown): v is ConsulAclStage {
    return v === 0 || v === 1 || v === 2;
}

/**
 * The stage the last `up` left every agent at, from the stack's own outputs: its consulAclStage, or
 * for a stack made before stages were recorded, whether it had ACLs (a management token, or a
 * primary datacenter of its own: a secondary has ACLs and no token of its own). Nothing applied
 * yet (no datacenter output): undefined.
 */
export function appliedAclStage(outputs: Record<string, unknown>): ConsulAclStage | undefined {
    if (isStage(outputs.consulAclStage)) {
        return outputs.consulAclStage;
    }
    if (outputs.datacenter === undefined || outputs.datacenter === null) {
        return undefined;
    }
    const secondary = typeof outputs.consulPrimaryDatacenter === "string" && outputs.consulPrimaryDatacenter !== outputs.datacenter;
    return typeof outputs.aclBootstrapToken === "string" || secondary ? CONSUL_ACL_DENY : CONSUL_ACL_OFF;
}

/** This up's move for consul.acl, given the applied stage. */
export function consulAclMove(acl: boolean, applied?: ConsulAclStage): ConsulAclMove {
    return { applied, next: stepToward(applied, acl ? CONSUL_ACL_DENY : CONSUL_ACL_OFF) as ConsulAclStage };
}

/** This up's move: the one the program gave, or consul.acl's end stage. */
export function aclMoveOf(args: { consul: { acl: boolean }; consulAcl?: ConsulAclMove }): ConsulAclMove {
    return args.consulAcl ?? consulAclMove(args.consul.acl);
}

/** What a preview and an up say while a switch is under way; undefined when there is none. */
export function aclStageNotice(move: ConsulAclMove, acl: boolean): string | undefined {
    return stageNotice(ACL_SWITCH, move.applied, move.next, acl);
}
