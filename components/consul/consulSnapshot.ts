import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderScript } from "../shared/script";

export interface UpgradeSnapshotArgs {
    /** The servers' HTTP API base URLs (https://ADDRESS:8501 with TLS); the first with a leader answers. */
    servers: pulumi.Input<string>[];
    /** The management token (snapshots need it); a secret, on stdin only. */
    managementToken?: pulumi.Input<string>;
    /** The Consul CA, when the API is HTTPS. */
    caCert?: pulumi.Input<string>;
    /** The release being rolled out, and its binary: a change of either takes a snapshot first. */
    version: string;
    binarySha256: pulumi.Input<string>;
    /** Where on the machine running Pulumi the files go (a relative path is the program's directory's). */
    dir: string;
    /** What must be settled before a snapshot is taken (the transition judge). */
    after?: pulumi.Input<pulumi.Resource>[];
}

/**
 * A snapshot of the cluster (`/v1/snapshot`: KV, ACLs, catalog) saved on the machine running Pulumi
 * before a new Consul release or binary restarts any server, so an upgrade can be rolled back
 * (`npm run snapshot -- restore`). A first up, with no cluster yet, saves nothing; later, a cluster
 * that does not answer stops the up here, before any restart.
 */
export class UpgradeSnapshot extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:consul:UpgradeSnapshot";

    /** The step the first server's restart waits for. */
    readonly save: command.local.Command;
    /** The absolute path of the last snapshot taken before a rollout (undefined before any). */
    readonly file: pulumi.Output<string | undefined>;

    constructor(name: string, args: UpgradeSnapshotArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts = { version: args.version, dir: args.dir };
        super(UpgradeSnapshot.type, name, facts, opts);
        this.save = new command.local.Command(
            `${name}-save`,
            {
                create: pulumi.all([pulumi.all(args.servers), args.binarySha256]).apply(([servers, binarySha256]) =>
                    renderScript("consul-snapshot", {
                        ACTION: "save",
                        ADDRS: servers.join(" "),
                        BINARY_SHA: binarySha256,
                        DIR: args.dir,
                        LABEL: `before-${args.version}`,
                        REQUIRE_CLUSTER: "no",
                    }),
                ),
                stdin: pulumi.secret(pulumi.interpolate`${args.managementToken ?? ""}\n${args.caCert ?? ""}`),
            },
            { parent: this, dependsOn: args.after ?? [] },
        );
        this.file = this.save.stdout.apply((out) => {
            const m = /^snapshot=(\/\S+)$/m.exec(out);
            return m ? m[1] : undefined;
        });
        this.registerOutputs({ ...facts, file: this.file });
    }
}
