// Consul TLS switched on or off on a running cluster. Restarted all at once into the new mode, an
// agent could not talk RPC to the ones not restarted yet (the first server rolled never came back):
// Consul's documented path goes through stages, each rolled through every agent, each leaving a
// cluster in which every agent talks to every other. One stage per `up`; the stack records the
// stage it applied (its consulTlsStage output) and takes the next one at the next `up`.
// Pure: the program decides the stage before it makes any resource; render.ts writes it.
import { stagedSwitch, stageNotice, stepToward } from "../transition/stages";

/**
 * 0: no TLS. 1: every agent has its certificate and accepts TLS (HTTPS on 8501, TLS RPC), still
 * sends and accepts plain RPC. 2: every agent sends TLS RPC, checking server.<dc>.consul; still
 * accepts plain. 3: plain RPC refused (the stack's steady state with consul.tls).
 */
export type ConsulTlsStage = 0 | 1 | 2 | 3;

export const CONSUL_TLS_OFF: ConsulTlsStage = 0;
export const CONSUL_TLS_VERIFIED: ConsulTlsStage = 3;

const TLS_SWITCH = stagedSwitch("consul.tls", "Consul's path: no agent ever meets one it cannot talk to", [
    "no TLS: plain RPC and HTTP only",
    "every agent gets its certificate and accepts TLS (HTTPS on 8501, TLS RPC) beside plain RPC, which it still sends",
    "every agent sends its RPC over TLS, checking the servers' certificates, and still accepts plain RPC",
    "every agent refuses plain RPC: TLS verified both ways",
]);

/** The stage consul.tls asks for once the move is over. */
export function consulTlsTarget(tls: boolean): ConsulTlsStage {
    return tls ? CONSUL_TLS_VERIFIED : CONSUL_TLS_OFF;
}

function isStage(v: unknown): v is ConsulTlsStage {
    return v === 0 || v === 1 || v === 2 || v === 3;
}

/**
 * The stage the last `up` left every agent at, from the stack's own outputs: its consulTlsStage,
 * or for a stack made before stages were recorded, whether it served HTTPS (consulHttpsAddr). A
 * stack that has applied nothing yet (no datacenter output): undefined, nothing to move from.
 */
export function appliedTlsStage(outputs: Record<string, unknown>): ConsulTlsStage | undefined {
    if (isStage(outputs.consulTlsStage)) {
        return outputs.consulTlsStage;
    }
    if (outputs.datacenter === undefined || outputs.datacenter === null) {
        return undefined;
    }
    return typeof outputs.consulHttpsAddr === "string" ? CONSUL_TLS_VERIFIED : CONSUL_TLS_OFF;
}

/** The stage this `up` applies: one step from the applied stage towards consul.tls; a new cluster starts where it ends. */
export function nextTlsStage(applied: ConsulTlsStage | undefined, tls: boolean): ConsulTlsStage {
    return stepToward(applied, consulTlsTarget(tls)) as ConsulTlsStage;
}

/** What a preview and an up say while a move is under way; undefined when there is none. */
export function tlsStageNotice(applied: ConsulTlsStage | undefined, next: ConsulTlsStage, tls: boolean): string | undefined {
    return stageNotice(TLS_SWITCH, applied, next, tls);
}

/** How an agent treats RPC at a stage: what its config says, and what its runtime config (/v1/agent/self) shows once it took it. */
export function tlsRpcFlags(stage: ConsulTlsStage): { verifyIncoming: boolean; verifyOutgoing: boolean; verifyServerHostname: boolean } {
    return { verifyIncoming: stage === CONSUL_TLS_VERIFIED, verifyOutgoing: stage >= 2, verifyServerHostname: stage >= 2 };
}

/**
 * The agent config's `tls` block at a stage (none at 0). Stage 3 is the block consul.tls has
 * always rendered: a stack at rest is not rolled by this file. Between stages 1, 2 and 3 only the
 * verify flags change, which Consul reloads on SIGHUP (TLS already on): no restart, no election.
 */
export function consulTlsBlock(stage: ConsulTlsStage, dir: string): Record<string, unknown> | undefined {
    if (stage === CONSUL_TLS_OFF) {
        return undefined;
    }
    const rpc = tlsRpcFlags(stage);
    return {
        defaults: {
            ca_file: `${dir}/ca.pem`,
            cert_file: `${dir}/cert.pem`,
            key_file: `${dir}/key.pem`,
            // HTTPS clients (browsers, the CLI) need no certificate of their own; ACLs guard the API.
            verify_incoming: false,
            verify_outgoing: rpc.verifyOutgoing,
        },
        internal_rpc: { verify_incoming: rpc.verifyIncoming, verify_server_hostname: rpc.verifyServerHostname },
    };
}

/** Where Consul TLS stands at an `up`: the stage the last one left (undefined: a new cluster) and the one this one applies. */
export interface ConsulTlsMove {
    applied?: ConsulTlsStage;
    next: ConsulTlsStage;
}

/** The move consul.tls asks for given the applied stage; with none known, consul.tls's own end stage. */
export function consulTlsMove(tls: boolean, applied?: ConsulTlsStage): ConsulTlsMove {
    return { applied, next: nextTlsStage(applied, tls) };
}

/** This up's move: the one the program gave, or consul.tls's end stage. */
export function tlsMoveOf(args: { consul: { tls: boolean }; consulTls?: ConsulTlsMove }): ConsulTlsMove {
    return args.consulTls ?? consulTlsMove(args.consul.tls);
}

/**
 * Whether the stack's own calls to the servers' API (the snapshot before a roll) go over HTTPS: at
 * the start of an up every server is at the applied stage, so only when it served HTTPS and this
 * stage still does (plain HTTP stays open on the network at every stage but the last).
 */
export function apiOverHttps(move: ConsulTlsMove): boolean {
    return (move.applied ?? move.next) >= 1 && move.next >= 1;
}
