import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { TlsPair } from "../tls/certificateAuthority";
import { DriftCheck } from "../shared/driftCheck";
import { Host } from "../host/host";
import { CONSUL_CONFIG_DIR, consulAgentConfig, consulDeferredRestartScript, consulServiceRemoveScript, consulServiceScript } from "./render";
import { renderScript, repairVars } from "../shared/script";
import { ResolvedInstall } from "../config";
import { consulBinary } from "./release";
import { CONSUL_TLS_OFF, CONSUL_TLS_VERIFIED, ConsulTlsStage } from "./tlsStages";
import { CONSUL_ACL_ALLOW, ConsulAclStage } from "./aclStages";

/** Where a copied binary lands before it is checked and installed (exists on every distribution). */
const UPLOAD_PATH = "/var/tmp/consul-swarm-consul";

export interface ConsulAgentArgs {
    host: Host;
    /** The release being installed (pinned; what a policy checks). */
    version: string;
    datacenter: pulumi.Input<string>;
    /** How the binary gets to the host; a `file` is copied over SSH (air-gapped sites, the lab). */
    install: ResolvedInstall;
    /** Gossip encryption key; reaches the host on stdin only. */
    gossipKey?: pulumi.Input<string>;
    /**
     * ACLs with default deny: the management and agent tokens (secrets; on stdin only), and the
     * stage while consul.acl is switched on a running cluster (see aclStages.ts; deny unless given).
     */
    acl?: { managementToken: pulumi.Input<string>; agentToken: pulumi.Input<string>; stage?: ConsulAclStage };
    /**
     * TLS: the CA and this agent's certificate pair (the key a secret; on stdin only), and the
     * stage while consul.tls is switched on a running cluster (see tlsStages.ts; 3 unless given).
     */
    tls?: { caCert: pulumi.Input<string>; pair: TlsPair; stage?: ConsulTlsStage };
    ui?: boolean;
    /** Consul's DNS interface on 8600 (default on). */
    dns?: boolean;
    /** Forward the host resolver's `consul` domain to the agent. */
    dnsForwarding?: boolean;
    /**
     * The servers' addresses (this host's own left out): the agent joins them by itself when it
     * starts, and a rebuilt bootstrap server asks them whether the cluster runs.
     */
    servers?: pulumi.Input<string>[];
    logLevel?: string;
    options?: Record<string, unknown>;
    /**
     * Restarts roll: this agent's service step waits for these (the previous server's), so a
     * change restarts one server at a time, each waiting until the cluster has a leader again.
     */
    restartAfter?: pulumi.Input<pulumi.Resource>[];
    /** Bound on the wait for the cluster after a restart, in seconds. */
    rejoinTimeoutSeconds?: number;
    /** A secondary datacenter: the primary's name and the ACL replication token (servers; a secret). */
    federation?: { primaryDatacenter: pulumi.Input<string>; replicationToken: pulumi.Input<string>; primaryServers: pulumi.Input<string[]> };
}

export interface ConsulServerArgs extends ConsulAgentArgs {
    /** Tutorial mode: this server starts with bootstrap, on its very first start only. */
    bootstrap?: boolean;
    /** Expect mode: every server waits for this many servers before electing a leader. */
    bootstrapExpect?: number;
}

/** What a policy pack sees of an agent: never the key itself, only whether there is one. */
function agentFacts(args: ConsulAgentArgs, server: boolean, bootstrap: boolean, bootstrapExpect: number | undefined) {
    return {
        nodeName: args.host.name,
        address: args.host.address,
        datacenter: args.datacenter,
        server,
        bootstrap,
        bootstrapExpect,
        version: args.version,
        install: args.install.kind === "url" ? { kind: "url", url: args.install.url, sha256: args.install.sha256 } : { kind: "file" },
        gossipEncryption: args.gossipKey !== undefined,
        acl: args.acl !== undefined,
        tls: args.tls !== undefined,
    };
}

/** ACLs on with default allow: the middle stage of consul.acl switched on a running cluster. */
function aclAllows(args: ConsulAgentArgs): boolean {
    return args.acl?.stage === CONSUL_ACL_ALLOW;
}

/** The agent's TLS stage: none without TLS, else the one given, or verified. */
function tlsStageOf(args: ConsulAgentArgs): ConsulTlsStage {
    return args.tls === undefined ? CONSUL_TLS_OFF : (args.tls.stage ?? CONSUL_TLS_VERIFIED);
}

/**
 * The installed binary's identity: what tells a host that its agent must restart on the new one.
 * The SHA-256 of the `consul` executable, whether it comes in a zip, bare, or from the toolchain.
 */
export function binarySha256(install: ResolvedInstall): pulumi.Output<string> {
    return pulumi.output(consulBinary(install)).apply((b) => b.sha256);
}

function installCommand(
    parent: pulumi.Resource,
    type: string,
    name: string,
    args: ConsulAgentArgs,
    sha: pulumi.Output<string>,
): command.remote.Command {
    const owner = (action: "claim" | "check") => ({ part: "consul-install", id: `${type}/${name}-install`, action });
    const deps: pulumi.Resource[] = [args.host.ready];
    // A binary replaced on the host: refresh sees it, and the next up installs the right one again.
    const drift = new DriftCheck(
        `${name}-binary-drift`,
        {
            connection: args.host.connection,
            script: sha.apply((s) => renderScript("consul-binary-drift", { BINARY_SHA: s })),
            expected: { binarySha256: sha, machine: args.host.machine },
        },
        { parent },
    );
    let create: pulumi.Output<string>;
    if (args.install.kind === "file") {
        const localFile = args.install.file;
        const copy = new command.remote.CopyToRemote(
            `${name}-upload`,
            {
                connection: args.host.connection,
                // A zip's binary, extracted on this machine: hosts get the executable itself.
                source: pulumi.output(consulBinary(args.install)).apply((b) => new pulumi.asset.FileAsset(b.file ?? localFile)),
                remotePath: UPLOAD_PATH,
                // After a repair of the binary, uploaded again; the count joins only then, so
                // adding drift checks to a running stack uploads nothing.
                triggers: pulumi.all([sha, args.host.machine, drift.repairs]).apply(([s, machine, r]) => (r ? [s, machine, r] : [s, machine])),
            },
            { parent, dependsOn: [args.host.ready] },
        );
        deps.push(copy);
        create = pulumi.all([sha, drift.repairs]).apply(([s, r]) =>
            renderScript("consul-install-file", { SHA256: s, UPLOAD: UPLOAD_PATH, ...repairVars(r) }, [], owner("claim")),
        );
    } else {
        const { url, sha256: downloadSha } = args.install;
        create = pulumi.all([sha, drift.repairs]).apply(([s, r]) =>
            renderScript("consul-install-url", { BINARY_SHA: s, SHA256: downloadSha, URL: url, ...repairVars(r) }, [], owner("claim")),
        );
    }
    return args.host.step(`${name}-install`, parent, {
        // A new version installs in place: create runs again.
        create,
        // Not the upload: a replaced step's delete runs after its successor's upload.
        delete: renderScript("consul-uninstall", {}, [], owner("check")),
        after: deps,
    });
}

/** Config, unit and start of one agent; the part of a server that restarts. */
function serviceCommand(
    parent: pulumi.Resource,
    type: string,
    name: string,
    args: ConsulAgentArgs,
    install: command.remote.Command,
    sha: pulumi.Output<string>,
    server: { bootstrap: boolean; bootstrapExpect?: number } | undefined,
): command.remote.Command {
    const config = pulumi
        .all([args.datacenter, args.host.address, args.gossipKey, args.acl?.managementToken, args.acl?.agentToken, args.federation?.primaryDatacenter, args.federation?.replicationToken, args.federation?.primaryServers])
        .apply(([datacenter, address, encrypt, managementToken, agentToken, primaryDatacenter, replicationToken, primaryServers]) =>
            consulAgentConfig({
                datacenter,
                nodeName: args.host.name,
                address,
                server: server !== undefined,
                ui: args.ui ?? true,
                logLevel: args.logLevel ?? "INFO",
                encrypt,
                acl: managementToken !== undefined && agentToken !== undefined ? { managementToken, agentToken, defaultPolicy: aclAllows(args) ? "allow" : "deny" } : undefined,
                tlsStage: tlsStageOf(args),
                dns: args.dns,
                options: args.options,
                federation: primaryDatacenter === undefined ? undefined : { primaryDatacenter, replicationToken, primaryServers },
            }),
        );
    // The agent stopped, its files edited, or running an old config: refresh sees it, up repairs it.
    const drift = new DriftCheck(
        `${name}-drift`,
        {
            connection: args.host.connection,
            script: renderScript("consul-drift", { CONFIG_DIR: CONSUL_CONFIG_DIR, NODE: args.host.name }, ["consul-lib", "record-lib"]),
            expected: { binarySha256: sha, machine: args.host.machine },
        },
        { parent },
    );
    const script = pulumi.all([pulumi.all(args.servers ?? []), drift.repairs, sha]).apply(([peers, repairs, binarySha]) =>
        consulServiceScript({
            repairs,
            nodeName: args.host.name,
            server: server !== undefined,
            peers,
            bootstrap: server?.bootstrap ?? false,
            bootstrapExpect: server?.bootstrapExpect,
            waitSeconds: args.rejoinTimeoutSeconds ?? 120,
            binarySha256: binarySha,
            dnsForwarding: args.dnsForwarding,
            ownerId: `${type}/${name}-service`,
            tlsStage: tlsStageOf(args),
            aclAllow: aclAllows(args),
        }),
    );
    return args.host.step(`${name}-service`, parent, {
        create: script,
        delete: consulServiceRemoveScript(`${type}/${name}-service`),
        // The config holds the gossip key and the ACL token: pulumi.secret keeps them encrypted in state.
        stdin: args.tls
            ? pulumi.secret(pulumi.interpolate`${args.tls.caCert}${args.tls.pair.cert}${args.tls.pair.key}${config}`)
            : args.gossipKey === undefined && args.acl === undefined
              ? config
              : pulumi.secret(config),
        after: [install, ...(args.restartAfter ?? [])],
    });
}

/**
 * A Consul server: binary, config file, systemd unit, started. Exactly one server of a tutorial
 * mode cluster bootstraps, and only on its very first start.
 */
export class ConsulServer extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:consul:ConsulServer";

    /** The host the agent runs on (its name is the node name; its connection, address, identity). */
    readonly host: Host;
    readonly bootstrap: boolean;
    readonly install: command.remote.Command;
    /** The step that (re)starts the agent: the next server's restart waits for it. */
    readonly service: command.remote.Command;
    private readonly name: string;
    private readonly rejoinTimeoutSeconds: number;
    private readonly aclAllow: boolean;
    private deferred?: command.remote.Command;

    constructor(name: string, args: ConsulServerArgs, opts?: pulumi.ComponentResourceOptions) {
        if (args.bootstrap && args.bootstrapExpect !== undefined) {
            throw new Error(`ConsulServer ${name}: bootstrap and bootstrapExpect exclude each other; set one`);
        }
        const facts = agentFacts(args, true, args.bootstrap ?? false, args.bootstrapExpect);
        super(ConsulServer.type, name, facts, opts);
        this.host = args.host;
        this.bootstrap = args.bootstrap ?? false;
        const sha = binarySha256(args.install);
        this.install = installCommand(this, ConsulServer.type, name, args, sha);
        this.service = serviceCommand(this, ConsulServer.type, name, args, this.install, sha, {
            bootstrap: this.bootstrap,
            bootstrapExpect: args.bootstrapExpect,
        });
        this.name = name;
        this.rejoinTimeoutSeconds = args.rejoinTimeoutSeconds ?? 120;
        this.aclAllow = aclAllows(args);
        this.registerOutputs(facts);
    }

    /**
     * Restarts this server after every server's service step (`lastServer`'s, the last of their
     * chain) if its own put the restart off, because it led the cluster or because the cluster
     * was degraded and could not lose it then; after the previous server's (`previous`), so
     * deferred restarts go one at a time too. Ordered by whoever chains the servers, once every
     * server is made (see layers/consul.ts). Once only.
     */
    deferRestart(lastServer?: pulumi.Resource, previous?: pulumi.Resource): command.remote.Command {
        if (this.deferred !== undefined) {
            throw new Error(`ConsulServer ${this.name}: its deferred restart is ordered already`);
        }
        this.deferred = this.host.step(`${this.name}-deferred-restart`, this, {
            create: this.service.stdout.apply((run) => consulDeferredRestartScript(this.host.name, this.rejoinTimeoutSeconds, run, this.aclAllow)),
            after: [this.service, ...(lastServer ? [lastServer] : []), ...(previous ? [previous] : [])],
        });
        return this.deferred;
    }

    /**
     * The server restarted as its config asks (its deferred restart): the join step and the
     * clients wait for it. A server no chain orders (one used on its own) has its deferred restart
     * after its own service step only.
     */
    get ready(): command.remote.Command {
        return this.deferred ?? this.deferRestart();
    }
}

/** A Consul client agent: same install and service as a server, without a vote. */
export class ConsulClient extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:consul:ConsulClient";

    /** The host the agent runs on (its name is the node name; its connection, address, identity). */
    readonly host: Host;
    readonly service: command.remote.Command;
    /** What the join step waits for: the agent (re)started. */
    readonly ready: command.remote.Command;

    constructor(name: string, args: ConsulAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts = agentFacts(args, false, false, undefined);
        super(ConsulClient.type, name, facts, opts);
        this.host = args.host;
        const sha = binarySha256(args.install);
        const install = installCommand(this, ConsulClient.type, name, args, sha);
        this.service = serviceCommand(this, ConsulClient.type, name, args, install, sha, undefined);
        this.ready = this.service;
        this.registerOutputs(facts);
    }
}
