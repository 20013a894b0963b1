import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderScript } from "./render";

export interface DockerTlsArgs {
    /** One server certificate per host, for its name and address (and loopback, for its own checks). */
    hosts: { name: string; address: pulumi.Input<string> }[];
    /** Certificate lifetime in days. */
    days?: number;
}

export interface TlsPair {
    cert: pulumi.Output<string>;
    /** Secret. */
    key: pulumi.Output<string>;
}

/** Splits what tls-ca.sh / tls-cert.sh print: a certificate, then its key. */
export function splitPemPair(out: string): { cert: string; key: string } {
    // The command provider trims the output's last newline: each PEM block gets its own back.
    const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
    const key = /-----BEGIN EC PRIVATE KEY-----[\s\S]+?-----END EC PRIVATE KEY-----/.exec(out)?.[0];
    if (!cert || !key) {
        throw new Error("expected a certificate and an EC private key in PEM");
    }
    return { cert: `${cert}\n`, key: `${key}\n` };
}

/**
 * The Docker API's TLS material, made once per stack with openssl on the machine running Pulumi:
 * a CA, a server certificate per host and one client certificate. Keys stay Pulumi secrets (the
 * commands' output is a secret output and is never logged) and reach hosts on stdin only.
 */
export class DockerTls extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:docker:DockerTls";

    /** The CA certificate (public). */
    readonly caCert: pulumi.Output<string>;
    readonly client: TlsPair;
    readonly servers: Record<string, TlsPair>;

    constructor(name: string, args: DockerTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(DockerTls.type, name, { hosts: args.hosts.map((h) => h.name) }, opts);
        const days = args.days ?? 3650;
        // Private keys in stdout: encrypted in state, never streamed to the console.
        const secretOutput: pulumi.CustomResourceOptions = { parent: this, additionalSecretOutputs: ["stdout"] };
        const ca = new command.local.Command(
            `${name}-ca`,
            { create: renderScript("tls-ca", { CN: "consul-swarm Docker CA", DAYS: days }), logging: "none" },
            secretOutput,
        );
        const caPair = pulumi.secret(ca.stdout).apply(splitPemPair);
        this.caCert = pulumi.unsecret(caPair.apply((p) => p.cert));
        const caBundle = pulumi.secret(caPair.apply((p) => p.cert + p.key));
        const issue = (id: string, cn: string, eku: string, san: pulumi.Input<string>): TlsPair => {
            const cert = new command.local.Command(
                `${name}-${id}`,
                {
                    create: pulumi.output(san).apply((s) => renderScript("tls-cert", { CN: cn, DAYS: days, EKU: eku, SAN: s })),
                    stdin: caBundle,
                    logging: "none",
                },
                { ...secretOutput, dependsOn: [ca] },
            );
            const pair = pulumi.secret(cert.stdout).apply(splitPemPair);
            return { cert: pulumi.unsecret(pair.apply((p) => p.cert)), key: pulumi.secret(pair.apply((p) => p.key)) };
        };
        this.client = issue("client", "consul-swarm client", "clientAuth", "");
        this.servers = {};
        for (const h of args.hosts) {
            // clientAuth too: the host checks its own API with its server certificate.
            this.servers[h.name] = issue(
                `server-${h.name}`,
                h.name,
                "serverAuth,clientAuth",
                pulumi.interpolate`IP:${h.address},DNS:${h.name},IP:127.0.0.1,DNS:localhost`,
            );
        }
        this.registerOutputs({ caCert: this.caCert });
    }
}
