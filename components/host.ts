import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostFacts, parseHostFacts, renderScript } from "./render";

export interface HostArgs {
    /** The host's address as the stack reaches it over SSH (also its Consul bind address). */
    address: pulumi.Input<string>;
    port?: pulumi.Input<number>;
    user?: pulumi.Input<string>;
    /** PEM/OpenSSH private key: kept a secret end to end. */
    privateKey: pulumi.Input<string>;
    /** How many failed SSH dials to tolerate while the host comes up (5 s each). */
    dialErrorLimit?: pulumi.Input<number>;
    /**
     * Identifies the machine behind the address (the lab passes its container's id). When it
     * changes, the machine is a new one and every step on it runs again. Default: the address.
     */
    machineId?: pulumi.Input<string>;
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
    readonly facts: pulumi.Output<HostFacts>;
    /** The command that read the facts: later steps on this host depend on it, so they wait for SSH. */
    readonly ready: command.remote.Command;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        // What a policy pack sees of a host (never the key).
        const facts = { address: args.address, port: args.port ?? 22, user: args.user ?? "root" };
        super(Host.type, name, facts, opts);
        this.name = name;
        this.address = pulumi.output(args.address);
        this.machine = pulumi.output(args.machineId ?? args.address);
        this.connection = pulumi.secret(
            pulumi.all([args.address, args.port, args.user, args.privateKey, args.dialErrorLimit]).apply(
                ([host, port, user, privateKey, dialErrorLimit]) => ({
                    host,
                    port: port ?? 22,
                    user: user ?? "root",
                    privateKey,
                    // A host that is still booting refuses connections for a while: keep dialling.
                    dialErrorLimit: dialErrorLimit ?? 60,
                    perDialTimeout: 5,
                }),
            ),
        );
        this.ready = new command.remote.Command(
            `${name}-facts`,
            {
                connection: this.connection,
                // Standard sshd refuses environment variables (AcceptEnv): pass nothing that way.
                addPreviousOutputInEnv: false,
                create: renderScript("host-facts", {}),
                // A different machine has different facts.
                triggers: [this.machine],
            },
            // Children do not inherit the component's dependsOn: what the host waits for (a lab
            // container, say) must gate the first SSH dial itself.
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.facts = this.ready.stdout.apply(parseHostFacts);
        this.registerOutputs({ ...facts, facts: this.facts });
    }

    /**
     * Options for a command that runs on this host. A new machine re-runs it (its triggers carry
     * the machine's identity); the old instance's delete runs first, while the new one has
     * nothing yet, so a delete script never undoes what its successor just did.
     */
    commandOptions(parent: pulumi.Resource, dependsOn: pulumi.Input<pulumi.Resource>[]): pulumi.CustomResourceOptions {
        return { parent, dependsOn, deleteBeforeReplace: true };
    }
}
