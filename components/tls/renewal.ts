// When the stack renews a certificate. Decided by the program at every `preview` and `up` from
// what the stack's last `up` recorded (its certificateRenewal output) and the time: known at
// preview, so a pull request shows exactly which certificates an `up` would renew, and nothing else.

/** What the stack records of a certificate: from when it is due, and how many times it was renewed. */
export interface LeafRenewal {
    /** ISO 8601: from then on, an `up` renews it. */
    due: string;
    /** Renewals so far: the certificate's step takes it as its trigger, so a new round issues anew. */
    round: number;
}

/**
 * The round of a certificate at an `up` at `nowMs`: the recorded one, or the next once the recorded
 * due time has passed. A certificate with no record (new, or made before renewals existed) is at 0.
 */
export function renewalRound(applied: LeafRenewal | undefined, nowMs: number): number {
    if (applied === undefined || typeof applied.round !== "number" || typeof applied.due !== "string") {
        return 0;
    }
    return Date.parse(applied.due) <= nowMs ? applied.round + 1 : applied.round;
}

/**
 * The time from which a certificate that ends at `notAfter` (ISO 8601) is due: once it has no more
 * than `renewSeconds` (the validity asked for times renewWhenLeft) to live. Counted back from its
 * end, not from its start, which is backdated (see tls-cert.sh): the test tls-cert.sh makes with
 * `-checkend`.
 */
export function dueOf(notAfter: string, renewSeconds: number): string {
    return new Date(Date.parse(notAfter) - renewSeconds * 1000).toISOString();
}
