import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SSH_WAIT_SECONDS } from "../config";
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS } from "../tls/settings";
import { HostFacts, parseHostFacts } from "./render";
import { HostClock } from "./hostClock";
import { SshTarget } from "../shared/sshRun";
import { asRootScript, renderScript } from "../shared/script";

/** A step on a host (see Host.step). */
export interface HostStep {
    /** Run when the step is made, and again whenever it or its stdin changes. */
    create?: pulumi.Input<string>;
    /** Run when the step goes, or before it is made again on a new identity. */
    delete?: pulumi.Input<string>;
    /** What the scripts read on stdin: secrets (wrapped in pulumi.secret) and files. */
    stdin?: pulumi.Input<string>;
    /** What makes it a new step: the host's machine unless given; null for a step never replaced. */
    identity?: pulumi.Input<unknown>[] | null;
    /** What must be done before it runs. */
    after?: pulumi.CustomResourceOptions["dependsOn"];
}

export interface HostArgs {
    /** The host's address as the stack reaches it over SSH (also its Consul bind address). */
    address: pulumi.Input<string>;
    /** Its SSH port (default 22). */
    port?: pulumi.Input<number>;
    /** The user the stack logs in as (default root); any other runs each step through `sudo -n` (docs/own-hosts.md). */
    user?: pulumi.Input<string>;
    /** PEM/OpenSSH private key: kept a secret end to end. */
    privateKey: pulumi.Input<string>;
    /**
     * How long the host may take to answer SSH (booting) before its steps fail, naming its
     * address; default 120. A host that refuses connections fails after about this long, one
     * that drops them after about twice this (each dial waits up to 5 s).
     */
    waitSeconds?: pulumi.Input<number>;
    /**
     * Identifies the machine behind the address (the lab passes its container's id). When it
     * changes, the machine is a new one and every step on it runs again. Default: the address.
     */
    machineId?: pulumi.Input<string>;
    /** How far the host's clock may be off from the machine running Pulumi, in seconds (default 120). */
    maxClockSkewSeconds?: pulumi.Input<number>;
}

/** Bounds each dial: a host that drops packets costs this much per try. */
const PER_DIAL_TIMEOUT_SECONDS = 5;

/**
 * The dial count whose retry waits add up to `seconds`: the command provider waits 100 ms after
 * the first failed dial, 1.5 times longer after each next one, at most 5 s (the Pulumi SDK's
 * retry schedule, which upstream's provider uses too).
 */
export function dialsWithin(seconds: number): number {
    let waited = 0;
    let wait = 0.1;
    let dials = 1;
    while (waited + wait <= seconds) {
        waited += wait;
        wait = Math.min(wait * 1.5, 5);
        dials++;
    }
    return dials;
}

/**
 * One machine the stack manages over SSH: its connection, shared by every command that runs on
 * it, and the facts the other components need (OS family, init system), read once.
 */
export class Host extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:host:Host";

    readonly name: string;
    readonly address: pulumi.Output<string>;
    /** See HostArgs.machineId: every command on this host lists it in its triggers. */
    readonly machine: pulumi.Output<string>;
    readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
    /** The SSH user: not a secret (the connection is, for its key), so scripts made for it are not. */
    readonly user: pulumi.Output<string>;
    /** The user when known while the program runs: root's scripts go as they are. */
    private readonly plainUser?: string;
    readonly facts: pulumi.Output<HostFacts>;
    /**
     * The host read and its clock checked: later steps on this host depend on it, so they wait for
     * SSH and never run on a host whose certificate checks would fail.
     */
    readonly ready: pulumi.Resource;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        // What a policy pack sees of a host (never the key).
        const facts = { address: args.address, port: args.port ?? 22, user: args.user ?? "root" };
        super(Host.type, name, facts, opts);
        this.name = name;
        this.address = pulumi.output(args.address);
        this.machine = pulumi.output(args.machineId ?? args.address);
        this.user = pulumi.output(args.user ?? "root");
        this.plainUser = args.user === undefined ? "root" : typeof args.user === "string" ? args.user : undefined;
        this.connection = pulumi.secret(
            pulumi.all([args.address, args.port, args.user, args.privateKey, args.waitSeconds]).apply(
                ([host, port, user, privateKey, waitSeconds]) => ({
                    host,
                    port: port ?? 22,
                    user: user ?? "root",
                    privateKey,
                    // A host that is still booting refuses connections for a while: keep dialling,
                    // within a bound, so a dead host fails the up in minutes, not in ten.
                    dialErrorLimit: dialsWithin(waitSeconds ?? DEFAULT_SSH_WAIT_SECONDS),
                    perDialTimeout: PER_DIAL_TIMEOUT_SECONDS,
                }),
            ),
        );
        const factsStep = this.step(`${name}-facts`, this, {
            // A different machine (its identity, the default) has different facts.
            create: renderScript("host-facts", {}),
            // Children do not inherit the component's dependsOn: what the host waits for (a lab
            // container, say) must gate the first SSH dial itself.
            after: opts?.dependsOn,
        });
        this.facts = factsStep.stdout.apply(parseHostFacts);
        this.ready = new HostClock(
            `${name}-clock`,
            { host: name, connection: this.connection.apply(({ host, port, user, privateKey }) => ({ host, port, user, privateKey }) as SshTarget), machine: this.machine, maxSkewSeconds: args.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS },
            { parent: this, dependsOn: [factsStep] },
        );
        this.registerOutputs({ ...facts, facts: this.facts });
    }

    /**
     * A command's args on this host: its connection, and its scripts as root. A user other than
     * root runs each through `sudo -n` (the README says what sudoers must allow); root's scripts
     * are left exactly as they are.
     */
    commandArgs(args: Omit<command.remote.CommandArgs, "connection">): command.remote.CommandArgs {
        const asRoot = (script: pulumi.Input<string> | undefined) =>
            script === undefined || this.plainUser === "root"
                ? script
                : pulumi.all([this.user, script]).apply(([user, s]) => (user === "root" ? s : asRootScript(s)));
        return { ...args, connection: this.connection, create: asRoot(args.create), update: asRoot(args.update), delete: asRoot(args.delete) };
    }

    /**
     * One step on this host: the command semantics every step of the stack follows, in one place.
     * - Its scripts run as root (see commandArgs) and converge from the host's real state.
     * - No `update`: a changed script or stdin runs `create` again, in place.
     * - Secrets and files travel on stdin, never on a command line.
     * - Its previous output is not passed as environment (standard sshd refuses it: AcceptEnv).
     * - Replaced only when its identity changes (the host's machine unless given: a new machine
     *   sets everything up again), the old instance's delete first, while the new one has nothing
     *   yet, so a delete never undoes what its successor just did.
     */
    step(name: string, parent: pulumi.Resource, s: HostStep): command.remote.Command {
        return new command.remote.Command(
            name,
            this.commandArgs({
                addPreviousOutputInEnv: false,
                create: s.create,
                delete: s.delete,
                stdin: s.stdin,
                ...(s.identity === null ? {} : { triggers: s.identity ?? [this.machine] }),
            }),
            { parent, dependsOn: s.after, deleteBeforeReplace: true },
        );
    }
}
