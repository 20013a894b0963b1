import * as pulumi from "@pulumi/pulumi";

/** When each certificate of a CA is due, and how many times it was renewed. */
export interface RenewalSchedule {
    /** Certificate id → renewals so far (0 for the first certificate): the certificate's step takes it as its trigger. */
    rounds: Record<string, number>;
    /** Certificate id → the time (ISO 8601) from which an `up` renews it. */
    dueAt: Record<string, string>;
}

interface RenewalInputs {
    leaves: string[];
    /** How long a certificate issued now lives. */
    validitySeconds: number;
    /** A certificate is renewed once less than this fraction of its life is left. */
    renewWhenLeft: number;
}

type RenewalState = RenewalInputs & RenewalSchedule;

/** The time from which a certificate issued at `issuedMs` is due. */
export function dueTime(issuedMs: number, validitySeconds: number, renewWhenLeft: number): string {
    return new Date(issuedMs + validitySeconds * 1000 * (1 - renewWhenLeft)).toISOString();
}

/**
 * The schedule after an `up` at `nowMs`: a certificate past its due time gets a new round (its
 * step issues anew) and a new due time, a new certificate starts at round 0, a removed one is
 * forgotten; the others keep theirs. A changed validity applies to certificates issued from then on.
 */
export function nextSchedule(previous: RenewalSchedule | undefined, inputs: RenewalInputs, nowMs: number): RenewalSchedule {
    const rounds: Record<string, number> = {};
    const dueAt: Record<string, string> = {};
    for (const id of inputs.leaves) {
        const round = previous?.rounds?.[id];
        const due = previous?.dueAt?.[id];
        if (round === undefined || due === undefined) {
            rounds[id] = 0;
            dueAt[id] = dueTime(nowMs, inputs.validitySeconds, inputs.renewWhenLeft);
        } else if (Date.parse(due) <= nowMs) {
            rounds[id] = round + 1;
            dueAt[id] = dueTime(nowMs, inputs.validitySeconds, inputs.renewWhenLeft);
        } else {
            rounds[id] = round;
            dueAt[id] = due;
        }
    }
    return { rounds, dueAt };
}

/** The certificates an `up` at `nowMs` renews, or adds to or drops from the schedule. */
export function renewalChanges(previous: RenewalSchedule | undefined, inputs: RenewalInputs, nowMs: number): string[] {
    const next = nextSchedule(previous, inputs, nowMs);
    const ids = new Set([...Object.keys(previous?.rounds ?? {}), ...Object.keys(next.rounds)]);
    return [...ids].filter((id) => previous?.rounds?.[id] !== next.rounds[id] || previous?.dueAt?.[id] !== next.dueAt[id]).sort();
}

/**
 * The renewal clock of a CA's certificates. The engine calls `diff` at every `preview` and `up`
 * with the schedule it last applied: a certificate past its due time is a change, so the preview
 * shows the renewal and the `up` gives the certificate a new round, which its step takes as a
 * trigger and issues anew. Nothing is due: no change, and a no-op stays a no-op.
 */
const renewalProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: RenewalInputs) {
        const { randomUUID } = require("crypto") as typeof import("crypto");
        return { id: randomUUID(), outs: { ...inputs, ...nextSchedule(undefined, inputs, Date.now()) } };
    },
    async diff(_id: string, olds: RenewalState, news: RenewalInputs) {
        return { changes: renewalChanges(olds, news, Date.now()).length > 0 };
    },
    async update(_id: string, olds: RenewalState, news: RenewalInputs) {
        return { outs: { ...news, ...nextSchedule(olds, news, Date.now()) } };
    },
};

export interface CertificateRenewalArgs {
    /** The ids of the CA's certificates. */
    leaves: pulumi.Input<string[]>;
    validitySeconds: pulumi.Input<number>;
    renewWhenLeft: pulumi.Input<number>;
}

/** The renewal schedule of one CA's certificates (see renewalProvider). */
export class CertificateRenewal extends pulumi.dynamic.Resource {
    declare readonly rounds: pulumi.Output<Record<string, number>>;
    declare readonly dueAt: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: CertificateRenewalArgs, opts?: pulumi.CustomResourceOptions) {
        super(renewalProvider, name, { ...args, rounds: undefined, dueAt: undefined }, opts, "consul-swarm", "CertificateRenewal");
    }
}
