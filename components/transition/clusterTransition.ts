import * as pulumi from "@pulumi/pulumi";
import { ClusterShape, judgeTransition, refusalMessage } from "./judge";

/** Hosts the stack once applied and no longer has, name → last address: what is left of them in a cluster is the stack's to prune. */
type Departed = Record<string, string>;
interface TransitionState {
    shape?: ClusterShape;
    departed?: Departed;
}

/**
 * The departed hosts after a move from `applied` (with those already departed) to `next`: a host
 * put back is no longer departed; the list is kept across ups, so a member that could not be
 * pruned at once is still known as the stack's at the next.
 */
export function departedHosts(applied: TransitionState | undefined, next: ClusterShape): Departed {
    const departed: Departed = { ...(applied?.departed ?? {}) };
    for (const [name, address] of Object.entries(applied?.shape?.hosts ?? {})) {
        departed[name] = address;
    }
    for (const name of Object.keys(next.hosts)) {
        delete departed[name];
    }
    return departed;
}

/**
 * The engine hands a provider's `check` the inputs it last applied and the new ones: the applied
 * cluster, known at `preview` as at `up`, with no host asked. A refused move fails the check, so
 * the preview of a pull request shows it, and an `up` stops before any step that depends on this
 * resource (every step on a host) runs.
 */
const transitionProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: { shape?: ClusterShape }, news: { shape: ClusterShape }) {
        const refusals = judgeTransition(olds?.shape, news.shape);
        return refusals.length === 0 ? { inputs: news } : { inputs: news, failures: [{ property: "shape", reason: refusalMessage(refusals) }] };
    },
    async create(inputs: { shape: ClusterShape }) {
        const { randomUUID } = require("crypto") as typeof import("crypto");
        return { id: randomUUID(), outs: { ...inputs, departed: {} } };
    },
    async diff(_id: string, olds: { shape?: ClusterShape }, news: { shape: ClusterShape }) {
        return { changes: JSON.stringify(olds.shape) !== JSON.stringify(news.shape) };
    },
    async update(_id: string, olds: TransitionState, news: { shape: ClusterShape }) {
        return { outs: { ...news, departed: departedHosts(olds, news.shape) } };
    },
};

export interface ClusterTransitionArgs {
    /** The cluster the config asks for (plain values: addresses resolved). */
    shape: pulumi.Input<ClusterShape>;
}

/**
 * The cluster as the stack last applied it, and the judge of every move away from it (see
 * judge.ts): datacenter renames, Consul TLS or ACLs switched on a running cluster, more servers out
 * at once than the quorum allows, a host re-addressed in place, a swarm role switched, a Consul
 * version that skips or goes back a minor version. Hosts' first steps depend on it.
 */
export class ClusterTransition extends pulumi.dynamic.Resource {
    declare readonly shape: pulumi.Output<ClusterShape>;
    /** Hosts the stack applied once and no longer has, name → address (see departedHosts). */
    declare readonly departed: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ClusterTransitionArgs, opts?: pulumi.CustomResourceOptions) {
        super(transitionProvider, name, { shape: args.shape, departed: undefined }, opts, "consul-swarm", "ClusterTransition");
    }
}
