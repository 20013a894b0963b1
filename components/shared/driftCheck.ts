import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { runOverSsh, sameTarget, SshTarget, withRetries } from "./sshRun";

/**
 * What a drift check keeps in state. `read` (run by `pulumi refresh`) only sees these outputs, so
 * everything the check needs to reach the host and judge it is here; the connection is a secret.
 */
interface DriftState {
    connection: command.types.input.remote.ConnectionArgs;
    /** The read-only probe: prints one line per finding, nothing when the part is as made. */
    script: string;
    /** The intent the part was made with (binary, swarm id, machine): a change is a change here too. */
    expected: Record<string, string>;
    /** What the last refresh found; empty after every create or update. */
    drift: string[];
    /** How many times a refresh found drift that an `up` then repaired: the part's steps take it as an input. */
    repairs: number;
}

/** Tries to reach a host that is still booting or busy; the last error is what the user sees. */
const SSH_ATTEMPTS = 3;
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Runs the probe over SSH and returns its findings. An unreachable host is a finding too, so a
 * refresh of a stack with one host down still completes and says which host it could not check.
 */
async function probe(state: DriftState): Promise<string[]> {
    const conn = state.connection as SshTarget;
    try {
        const { stdout } = await withRetries(SSH_ATTEMPTS, () => runOverSsh(conn, state.script, { asRoot: true, timeoutMs: PROBE_TIMEOUT_MS }));
        return stdout
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "");
    } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        return [`host: ${conn.user ?? "root"}@${conn.host}:${conn.port ?? 22} could not be checked over SSH (${SSH_ATTEMPTS} tries): ${why}`];
    }
}

/** Key order does not make a change. */
function sameExpectations(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
    const norm = (r: Record<string, string> | undefined) => JSON.stringify(Object.entries(r ?? {}).sort(([x], [y]) => (x < y ? -1 : 1)));
    return norm(a) === norm(b);
}

/**
 * A real read step for a part that `@pulumi/command` cannot read back: `pulumi refresh` runs the
 * part's probe on the host and records what drifted; the next `up` sees the recorded drift as a
 * change, counts a repair, and the part's steps, which take that count, run again and repair from
 * the host's real state. Nothing drifted: no change, so a no-op `up` (with or without --refresh)
 * stays a no-op. A new probe script alone is not a change either: it is picked up with the next one.
 */
const driftProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: DriftState) {
        // Made before the part's steps run: nothing to check yet.
        const { randomUUID } = require("crypto") as typeof import("crypto");
        return { id: randomUUID(), outs: { ...inputs, drift: [], repairs: 0 } };
    },
    async read(id: string, props?: DriftState) {
        if (props === undefined) {
            return { id, props };
        }
        return { id, props: { ...props, drift: await probe(props) } };
    },
    async diff(_id: string, olds: DriftState, news: DriftState) {
        const changes =
            (olds.drift ?? []).length > 0 ||
            !sameExpectations(olds.expected, news.expected) ||
            !sameTarget(olds.connection as SshTarget, news.connection as SshTarget);
        return { changes };
    },
    async update(_id: string, olds: DriftState, news: DriftState) {
        const repaired = (olds.drift ?? []).length > 0 ? 1 : 0;
        return { outs: { ...news, drift: [], repairs: (olds.repairs ?? 0) + repaired } };
    },
};

export interface DriftCheckArgs {
    /** The host's connection (a secret: kept encrypted in state, which `read` needs it from). */
    connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
    /** The rendered probe script (see components/<part>/scripts/*-drift.sh). */
    script: pulumi.Input<string>;
    expected: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Drift of one part on one host, seen by `pulumi refresh`. Its `repairs` output goes into the
 * part's steps: after a refresh found drift, `up` re-runs them, and they repair what they find.
 */
export class DriftCheck extends pulumi.dynamic.Resource {
    /** The findings of the last refresh (empty after an `up`). */
    declare readonly drift: pulumi.Output<string[]>;
    declare readonly repairs: pulumi.Output<number>;

    constructor(name: string, args: DriftCheckArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            driftProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection), drift: undefined, repairs: undefined },
            { ...opts, additionalSecretOutputs: ["connection"] },
            "consul-swarm",
            "DriftCheck",
        );
    }
}

