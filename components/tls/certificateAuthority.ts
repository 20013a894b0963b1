import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderScript } from "../shared/script";

/** One certificate the CA issues. */
export interface LeafSpec {
    commonName: string;
    /** extendedKeyUsage, e.g. "serverAuth,clientAuth". */
    extendedKeyUsage: string;
    /** subjectAltName, e.g. "IP:10.0.0.5,DNS:consul01"; empty for none. */
    subjectAltName: pulumi.Input<string>;
}

export interface CertificateAuthorityArgs {
    /** The CA's own common name. */
    commonName: string;
    /** The certificates to issue, by id (the id names the child resource). */
    leaves: Record<string, LeafSpec>;
    /** Certificate lifetime in days. */
    days?: number;
    /** A re-run issues anew only what has fewer days than this left to live. */
    renewDays?: number;
    /**
     * Issue from this CA instead of making one (a secret pair: another datacenter's CA, so the
     * two trust each other's certificates).
     */
    existing?: pulumi.Input<{ cert: string; key: string }>;
    /** What must be settled before a key or certificate is made or made again (the transition judge). */
    after?: pulumi.Input<pulumi.Resource>[];
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
 * A private CA and the certificates it issues, made once per stack with openssl on the machine
 * running Pulumi (no TLS provider needed). Keys stay Pulumi secrets: the commands' output is a
 * secret output, never logged, and reaches hosts on stdin only.
 */
export class CertificateAuthority extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:tls:CertificateAuthority";

    /** The CA certificate (public). */
    readonly caCert: pulumi.Output<string>;
    /** The CA's key (a secret): what another datacenter needs to issue certificates this one trusts. */
    readonly caKey: pulumi.Output<string>;
    readonly leaves: Record<string, TlsPair>;

    constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
        // The Docker CA was first written as consul-swarm:docker:DockerTls: same children, no replacement.
        const aliased = pulumi.mergeOptions(opts, { aliases: [{ type: "consul-swarm:docker:DockerTls" }] });
        super(CertificateAuthority.type, name, { commonName: args.commonName, leaves: Object.keys(args.leaves) }, aliased);
        const days = args.days ?? 3650;
        const renewDays = args.renewDays ?? 30;
        const secretOutput: pulumi.CustomResourceOptions = { parent: this, additionalSecretOutputs: ["stdout"], dependsOn: args.after ?? [] };
        // A CA and its certificates are made once. The command provider re-runs a step whose
        // inputs change (an edited script included): the scripts then print the previous pair
        // again (it reaches them as PULUMI_COMMAND_STDOUT) unless it no longer fits the request.
        let caPair: pulumi.Output<{ cert: string; key: string }>;
        const caMade: pulumi.Resource[] = [];
        if (args.existing !== undefined) {
            caPair = pulumi.secret(args.existing);
        } else {
            const caScript = renderScript("tls-ca", { CN: args.commonName, DAYS: days, RENEW_DAYS: renewDays });
            const ca = new command.local.Command(
                `${name}-ca`,
                { create: caScript, addPreviousOutputInEnv: true, logging: "none" },
                secretOutput,
            );
            caMade.push(ca);
            caPair = pulumi.secret(ca.stdout).apply(splitPemPair);
        }
        this.caCert = pulumi.unsecret(caPair.apply((p) => p.cert));
        this.caKey = pulumi.secret(caPair.apply((p) => p.key));
        const caBundle = pulumi.secret(caPair.apply((p) => p.cert + p.key));
        this.leaves = {};
        for (const [id, leaf] of Object.entries(args.leaves)) {
            const certScript = pulumi
                .output(leaf.subjectAltName)
                .apply((san) =>
                    renderScript("tls-cert", { CN: leaf.commonName, DAYS: days, EKU: leaf.extendedKeyUsage, RENEW_DAYS: renewDays, SAN: san }),
                );
            const cert = new command.local.Command(
                `${name}-${id}`,
                { create: certScript, addPreviousOutputInEnv: true, stdin: caBundle, logging: "none" },
                { ...secretOutput, dependsOn: [...(args.after ?? []), ...caMade] },
            );
            const pair = pulumi.secret(cert.stdout).apply(splitPemPair);
            this.leaves[id] = { cert: pulumi.unsecret(pair.apply((p) => p.cert)), key: pulumi.secret(pair.apply((p) => p.key)) };
        }
        this.registerOutputs({ caCert: this.caCert });
    }
}
