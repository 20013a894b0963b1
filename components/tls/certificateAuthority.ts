import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import { renderScript } from "../shared/script";
import { dueOf, LeafRenewal, renewalRound } from "./renewal";

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
    /** The CA's own lifetime in days (a CA is renewed only when fewer than 30 are left). */
    days?: number;
    /** How long an issued certificate lives, in seconds (default 365 days). */
    leafValiditySeconds?: pulumi.Input<number>;
    /** An `up` renews a certificate once less than this fraction of its life is left (default 1/3). */
    renewWhenLeft?: pulumi.Input<number>;
    /**
     * How far back an issued certificate's validity starts, in seconds (default 300): a host whose
     * clock is that much behind still takes it (the hosts' clocks are checked against this bound).
     */
    backdateSeconds?: number;
    /**
     * What the stack's last `up` recorded of each leaf (this CA's `renewals`, read back from the
     * stack's outputs): a leaf past its due time is issued anew. None: no leaf is renewed.
     */
    applied?: pulumi.Input<Record<string, LeafRenewal> | undefined>;
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

/** 365 days: renewed by the stack, so a year is long enough and short enough. */
export const DEFAULT_LEAF_VALIDITY_SECONDS = 365 * 86400;
export const DEFAULT_RENEW_WHEN_LEFT = 1 / 3;
export const DEFAULT_BACKDATE_SECONDS = 300;

/** When a PEM certificate stops being valid, as ISO 8601. */
export function notAfter(pem: string): string {
    return new Date(new crypto.X509Certificate(pem).validTo).toISOString();
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
    /** When each certificate stops being valid (ISO 8601), "ca" and the leaves' ids: public. */
    readonly expiries: pulumi.Output<Record<string, string>>;
    /** When an `up` renews each leaf, and its round: what the next `up` takes as `applied`. */
    readonly renewals: pulumi.Output<Record<string, LeafRenewal>>;

    constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
        // The Docker CA was first written as consul-swarm:docker:DockerTls: same children, no replacement.
        const aliased = pulumi.mergeOptions(opts, { aliases: [{ type: "consul-swarm:docker:DockerTls" }] });
        // What a policy pack reads of a CA (its outputs add each certificate's expiry).
        const facts = { commonName: args.commonName, leaves: Object.keys(args.leaves) };
        super(CertificateAuthority.type, name, facts, aliased);
        const days = args.days ?? 3650;
        const renewDays = 30;
        const validitySeconds = pulumi.output(args.leafValiditySeconds ?? DEFAULT_LEAF_VALIDITY_SECONDS);
        // A leaf with no more than this to live is due: tls-cert.sh's `-checkend` and `renewals` alike.
        const renewSeconds = pulumi
            .all([validitySeconds, pulumi.output(args.renewWhenLeft ?? DEFAULT_RENEW_WHEN_LEFT)])
            .apply(([valid, left]) => Math.floor(valid * left));
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
        // Read once per program run: a preview and the up after it judge by their own time.
        const now = Date.now();
        const applied = pulumi.output(args.applied).apply((a) => a ?? {});
        const rounds: Record<string, pulumi.Output<number>> = {};
        this.leaves = {};
        for (const [id, leaf] of Object.entries(args.leaves)) {
            const certScript = pulumi.all([leaf.subjectAltName, validitySeconds, renewSeconds]).apply(([san, valid, renew]) =>
                renderScript("tls-cert", {
                    BACKDATE_SECONDS: args.backdateSeconds ?? DEFAULT_BACKDATE_SECONDS,
                    CN: leaf.commonName,
                    EKU: leaf.extendedKeyUsage,
                    RENEW_SECONDS: renew,
                    SAN: san,
                    VALID_SECONDS: valid,
                }),
            );
            rounds[id] = applied.apply((a) => renewalRound(a[id], now));
            const cert = new command.local.Command(
                `${name}-${id}`,
                {
                    create: certScript,
                    addPreviousOutputInEnv: true,
                    stdin: caBundle,
                    logging: "none",
                    // A renewal is a new round: the step is made again and issues a new certificate.
                    // Round 0 sets no trigger, so a stack made before renewals existed keeps its step.
                    // (An output that resolves to undefined leaves the property out, as if not given.)
                    triggers: rounds[id].apply((round) => (round > 0 ? [round] : undefined)) as pulumi.Output<number[]>,
                },
                { ...secretOutput, dependsOn: [...(args.after ?? []), ...caMade] },
            );
            const pair = pulumi.secret(cert.stdout).apply(splitPemPair);
            this.leaves[id] = { cert: pulumi.unsecret(pair.apply((p) => p.cert)), key: pulumi.secret(pair.apply((p) => p.key)) };
        }
        const leafCerts = Object.fromEntries(Object.entries(this.leaves).map(([id, l]) => [id, l.cert]));
        this.expiries = pulumi
            .all({ ca: this.caCert, ...leafCerts })
            .apply((certs) => Object.fromEntries(Object.entries(certs).map(([id, pem]) => [id, notAfter(pem)])));
        this.renewals = pulumi
            .all([this.expiries, renewSeconds, pulumi.all(rounds)])
            .apply(([ends, renew, r]) => Object.fromEntries(Object.keys(leafCerts).map((id) => [id, { due: dueOf(ends[id], renew), round: r[id] }])));
        this.registerOutputs({ ...facts, caCert: this.caCert, expiries: this.expiries, renewals: this.renewals });
    }
}
