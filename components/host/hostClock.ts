import * as pulumi from "@pulumi/pulumi";
import { runOverSsh, sameTarget, SshTarget, withRetries } from "../shared/sshRun";

interface ClockInputs {
    /** The host's name, for the message. */
    host: string;
    /** The host's connection (a secret). */
    connection: SshTarget;
    /** The machine behind the address: a new one is checked again. */
    machine: string;
    maxSkewSeconds: number;
}

/** How a host's clock compares with this machine's. */
export interface ClockReading {
    /** Host minus this machine, in seconds (positive: the host is ahead). */
    skewSeconds: number;
    /** How far off the reading itself may be: half the round trip, and the host's whole-second `date`. */
    uncertaintySeconds: number;
}

/** The reading from the host's `date +%s` and the times, on this machine, around the script's run. */
export function clockReading(hostSeconds: number, startedMs: number, endedMs: number): ClockReading {
    const midSeconds = (startedMs + endedMs) / 2000;
    return { skewSeconds: Math.round(hostSeconds - midSeconds), uncertaintySeconds: Math.ceil((endedMs - startedMs) / 2000) + 1 };
}

/** Why the host is refused, or undefined when its clock is within the bound. */
export function clockRefusal(host: string, reading: ClockReading, maxSkewSeconds: number): string | undefined {
    const off = Math.abs(reading.skewSeconds);
    if (off - reading.uncertaintySeconds <= maxSkewSeconds) {
        return undefined;
    }
    const way = reading.skewSeconds > 0 ? "ahead of" : "behind";
    return (
        `host ${host}: its clock is ${off} s ${way} this machine's (the bound is ${maxSkewSeconds} s, certificates.maxClockSkew): ` +
        `every TLS check on it or of its certificates would be off by that much; ` +
        `set its time (e.g. \`timedatectl set-ntp true\`, or chrony/ntpd) and run again; refused before any step ran on it`
    );
}

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

async function readClock(inputs: ClockInputs, attempts: number, readyTimeoutMs: number): Promise<ClockReading> {
    try {
        return await withRetries(attempts, async () => {
            const run = await runOverSsh(inputs.connection, "date -u +%s\n", { asRoot: false, timeoutMs: 30_000, readyTimeoutMs });
            const hostSeconds = Number(run.stdout.trim());
            if (!Number.isFinite(hostSeconds)) {
                throw new Error(`\`date -u +%s\` printed ${JSON.stringify(run.stdout.trim())}`);
            }
            return clockReading(hostSeconds, run.startedMs, run.endedMs);
        });
    } catch (err) {
        throw new Error(`host ${inputs.host}: its clock could not be read over SSH (${attempts} tries): ${err instanceof Error ? err.message : String(err)}`);
    }
}

/** Reads the clock of a host that must answer (its facts step just ran): a refusal fails the step. */
async function mustBeOnTime(inputs: ClockInputs): Promise<void> {
    const refusal = clockRefusal(inputs.host, await readClock(inputs, 3, 10_000), inputs.maxSkewSeconds);
    if (refusal !== undefined) {
        throw new Error(refusal);
    }
}

/**
 * The engine calls `check` at every `preview` and `up`, before any step: a host the stack already
 * set up is read there, so a clock gone off since is refused in the pull request's preview and
 * before an `up` changes anything. A new host (nothing applied yet: it may not even exist) is read
 * by `create`, right after its facts step and before any step that depends on the host.
 */
const clockProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<ClockInputs> | undefined, news: ClockInputs) {
        const applied = olds?.connection !== undefined;
        // (Not the whole of `news`: it holds this provider's own serialized text, this constant included.)
        const known = !JSON.stringify([news.connection, news.machine, news.maxSkewSeconds]).includes(UNKNOWN);
        if (!applied || !known) {
            return { inputs: news };
        }
        let reading: ClockReading;
        try {
            reading = await readClock(news, 1, 5_000);
        } catch {
            // Unreachable now (down, or being rebuilt): its own steps fail on that if it stays so;
            // the clock is read again at the next preview, and by `update` on a new machine.
            return { inputs: news };
        }
        const refusal = clockRefusal(news.host, reading, news.maxSkewSeconds);
        // Named on `host`: the engine prints the property's value beside the reason, and the
        // connection's value holds the SSH key.
        return refusal === undefined ? { inputs: news } : { inputs: news, failures: [{ property: "host", reason: refusal }] };
    },
    async create(inputs: ClockInputs) {
        await mustBeOnTime(inputs);
        const { randomUUID } = require("crypto") as typeof import("crypto");
        return { id: randomUUID(), outs: inputs };
    },
    async diff(_id: string, olds: ClockInputs, news: ClockInputs) {
        const changes =
            olds.machine !== news.machine ||
            olds.maxSkewSeconds !== news.maxSkewSeconds ||
            !sameTarget(olds.connection, news.connection);
        return { changes };
    },
    async update(_id: string, _olds: ClockInputs, news: ClockInputs) {
        await mustBeOnTime(news);
        return { outs: news };
    },
};

export interface HostClockArgs {
    host: string;
    connection: pulumi.Input<SshTarget>;
    machine: pulumi.Input<string>;
    maxSkewSeconds: pulumi.Input<number>;
}

/** A host's clock, checked against this machine's (see clockProvider). */
export class HostClock extends pulumi.dynamic.Resource {
    constructor(name: string, args: HostClockArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            clockProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection) },
            { ...opts, additionalSecretOutputs: ["connection"] },
            "consul-swarm",
            "HostClock",
        );
    }
}
