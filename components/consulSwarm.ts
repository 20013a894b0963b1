import * as pulumi from "@pulumi/pulumi";
import { CertificateAuthority } from "./tls/certificateAuthority";
import { BootstrapMode, ResolvedInstall, Role, StackSettings } from "./config";
import { ConsulCluster } from "./consul/consulCluster";
import { PrimaryDatacenter } from "./consul/wanFederation";
import { Swarm } from "./swarm/swarm";
import { ClusterTransition } from "./transition/clusterTransition";
import { ClusterShape } from "./transition/judge";
import { CertificateSettings } from "./tls/settings";
import { LeafRenewal } from "./tls/renewal";
import { createConsul } from "./layers/consul";
import { createHosts } from "./layers/hosts";
import { createSwarm } from "./layers/swarm";
import { createTrust } from "./layers/trust";
import { ConsulTlsMove, ConsulTlsStage, tlsMoveOf } from "./consul/tlsStages";
import { aclMoveOf, ConsulAclMove, ConsulAclStage } from "./consul/aclStages";

/** Consul on the hosts. The config file's `consul` section maps onto it in consulSwarmArgs. */
export interface ConsulSwarmConsulArgs {
    /** The release every agent runs, pinned (e.g. "1.14.11"): a change rolls the servers, one minor version at a time. */
    version: string;
    /** Where the binary comes from: a release zip or bare binary by URL with its checksum, or a file on this machine copied over SSH. */
    install: ResolvedInstall;
    /** "tutorial": the host marked bootstrap starts with -bootstrap, once; "expect": every server waits for all of them (bootstrap_expect). */
    bootstrapMode: BootstrapMode;
    /** The web UI on the HTTP (and HTTPS) API. */
    ui: boolean;
    /** The agents' log_level (TRACE, DEBUG, INFO, WARN, ERR). */
    logLevel: string;
    /** Agent options merged into every agent's config file over the production defaults (Consul's JSON keys; the stack's own are refused by validateConfig). */
    options: Record<string, unknown>;
    /** ACLs with default deny: the stack makes the management token (output aclBootstrapToken) and least-privilege tokens for agents and swarm hosts. */
    acl: boolean;
    /** TLS from the stack's CA: RPC verified both ways, HTTPS on 8501. Switched on a running cluster, it goes in stages (see consulTls). */
    tls: boolean;
    /**
     * Consul's DNS interface on 8600 of every agent. With ACLs, the anonymous token may then read
     * node and service names (what DNS answers need; Consul 1.14 has no DNS token of its own).
     */
    dns: boolean;
    /** Forward the `consul` domain from each host's resolver (systemd-resolved or dnsmasq) to its agent. */
    dnsForwarding: boolean;
}

/** The Docker daemon on every host. The config file's `docker` section maps onto it in consulSwarmArgs. */
export interface ConsulSwarmDockerArgs {
    /** The TCP port of the Docker API beside the unix socket (2376 with TLS, 2375 without, by default). */
    tcpPort: number;
    /** The address the TCP API binds to ("0.0.0.0": every interface). */
    bindAddress: string;
    /** The API only with client certificates from the stack's CA (output dockerTls). */
    tls: boolean;
    /** How many swarm workers' dockerd may restart at once for a Docker change (managers: one at a time). */
    workerRestartsAtOnce: number;
}

/** One host of the cluster: where to reach it and what it does. */
export interface ConsulSwarmHost {
    /** Its Consul node name and the stem of every resource name on it. */
    name: string;
    /** Reached over SSH, and Consul's bind address: may come from another resource (a VM's IP). */
    address: pulumi.Input<string>;
    /** What it runs: consul-server, consul-client, swarm-manager, swarm-agent (a Consul role and a swarm role each at most). */
    roles: Role[];
    /** Tutorial mode: the one server started with `-bootstrap`. */
    bootstrap?: boolean;
    /** How the stack logs in: user (default root; others through sudo), port (22), how long it may take to answer (120 s). */
    ssh?: { user?: pulumi.Input<string>; port?: pulumi.Input<number>; waitSeconds?: pulumi.Input<number> };
    /** Its Docker API address, over the stack's docker.bindAddress. */
    dockerBindAddress?: pulumi.Input<string>;
    /** The machine behind the address (a VM or container id): a new one re-runs every step on it. */
    machineId?: pulumi.Input<string>;
    /** What must exist before the first SSH dial (the VM or container that makes the host). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * A secondary datacenter's share of the primary's (its stack's outputs): one gossip keyring for
 * the WAN pool, one CA that both trust, the primary's management token (ACLs are global).
 * Secrets end to end.
 */
export interface ConsulSwarmFederation {
    primary: PrimaryDatacenter;
    gossipKey: pulumi.Input<string>;
    managementToken: pulumi.Input<string>;
    consulCa: pulumi.Input<{ cert: string; key: string }>;
}

export interface ConsulSwarmArgs {
    /** The Consul datacenter's name (fixed once the cluster runs). */
    datacenter: string;
    /** Join the datacenter another stack runs, as a secondary (WAN federation). */
    federation?: ConsulSwarmFederation;
    hosts: ConsulSwarmHost[];
    /** The key that logs in on every host (a secret end to end). */
    sshPrivateKey: pulumi.Input<string>;
    /** Consul on the hosts. */
    consul: ConsulSwarmConsulArgs;
    /** The Docker daemon on every host. */
    docker: ConsulSwarmDockerArgs;
    /** The certificates' lifetime and renewal, and the hosts' clock bound (defaults: see components/tls/settings.ts). */
    certificates?: CertificateSettings;
    /**
     * The stack's certificateRenewal output from its last `up` (a StackReference to the stack
     * itself): what tells a program run which certificates are due. None: none is renewed.
     */
    appliedCertificates?: pulumi.Input<Record<string, LeafRenewal> | undefined>;
    /**
     * Where Consul TLS stands while consul.tls is switched on a running cluster: the stage the
     * last up left and the one this up applies (see consul/tlsStages.ts). Unless given,
     * consul.tls's own end stage, as for a new cluster.
     */
    consulTls?: ConsulTlsMove;
    /** The same for consul.acl (see consul/aclStages.ts). */
    consulAcl?: ConsulAclMove;
    /**
     * The management token the last up exported (a secret): while ACLs are switched off, the
     * servers still have them when the up starts, and the snapshot before the roll needs it
     * (acl:write, which default allow does not give), though this up no longer makes it.
     */
    appliedManagementToken?: pulumi.Input<string>;
    /**
     * Where snapshots taken before a rollout are kept on the machine running Pulumi (a relative
     * path is the program's directory's); `snapshots/<stack>` unless set.
     */
    snapshotDir?: string;
}

/**
 * The whole cluster on a set of hosts: the Docker API opened with TLS, Consul servers and clients
 * with TLS, ACLs and gossip encryption, joined and verified, and Docker swarm mode on top, found
 * through Consul. Its parts are its children; what other stacks need are its outputs.
 */
export class ConsulSwarm extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:index:ConsulSwarm";

    readonly datacenter: string;
    /** Server node name → address. */
    readonly consulServers: Record<string, pulumi.Output<string>>;
    readonly consulHttpAddr: pulumi.Output<string>;
    readonly consulUiUrl: pulumi.Output<string>;
    /** HTTPS API (verify the server with consulCaCert); absent without Consul TLS. */
    readonly consulHttpsAddr?: pulumi.Output<string>;
    readonly consulCaCert?: pulumi.Output<string>;
    readonly consulLeader: pulumi.Output<string>;
    readonly consulMembers: ConsulCluster["members"];
    /** Docker host name → DOCKER_HOST. */
    readonly dockerHosts: Record<string, pulumi.Output<string>>;
    readonly swarmManager?: pulumi.Output<string>;
    readonly swarmNodes?: Swarm["nodes"];
    /** The datacenters the cluster saw when it was last verified (the primary among them, in a federation). */
    readonly consulDatacenters: pulumi.Output<string[]>;
    /** Where ACLs are authoritative: this datacenter, or the primary it joined. */
    readonly consulPrimaryDatacenter: pulumi.Output<string>;
    /** The Consul CA's key (a secret; absent without Consul TLS): what a secondary datacenter issues from. */
    readonly consulCaKey?: pulumi.Output<string>;
    /** The snapshot saved before the last rollout of a Consul release or binary (a path on this machine). */
    readonly consulUpgradeSnapshot: pulumi.Output<string | undefined>;
    readonly gossipKey: pulumi.Output<string>;
    readonly aclBootstrapToken?: pulumi.Output<string>;
    /** What a Docker client needs for DOCKER_TLS_VERIFY=1 (DOCKER_CERT_PATH's ca.pem, cert.pem, key.pem). */
    readonly dockerTls?: pulumi.Output<{ caCert: string; clientCert: string; clientKey: string }>;
    /** When each certificate the stack made stops being valid (ISO 8601): "consul:ca", "consul:agent-<host>", "docker:server-<host>", … */
    readonly certificateExpiry: pulumi.Output<Record<string, string>>;
    /** When an `up` renews each leaf certificate, and how many times it was, by the same names. */
    readonly certificateRenewal: pulumi.Output<Record<string, LeafRenewal>>;
    /** The Consul TLS stage every agent is at once the up is over (known only then: see consul/tlsStages.ts). */
    readonly consulTlsStage: pulumi.Output<ConsulTlsStage>;
    /** The same for ACLs (see consul/aclStages.ts). */
    readonly consulAclStage: pulumi.Output<ConsulAclStage>;

    constructor(name: string, args: ConsulSwarmArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ConsulSwarm.type, name, { datacenter: args.datacenter, hosts: args.hosts.map((h) => h.name) }, opts);
        const datacenter = args.datacenter;
        // The parts were first made at the stack's root: the alias keeps them (no replacement).
        const child = { parent: this, aliases: [{ parent: pulumi.rootStackResource }] };
        // The move from the applied cluster to this config, judged before any host is touched.
        const transition = new ClusterTransition("cluster-transition", { shape: clusterShape(args) }, { parent: this });
        const hosts = createHosts(args, child, transition);
        const trust = createTrust(args, child, transition);
        const consul = createConsul(args, child, hosts, trust, transition);
        const { daemons, swarm } = createSwarm(args, child, hosts, trust, consul);
        const { consulCa, dockerTls, gossipKey, aclToken, primaryDatacenter } = trust;
        const { servers, cluster, upgradeSnapshot, consulHttpAddr, consulHttpsAddr } = consul;
        const federation = args.federation;

        this.datacenter = datacenter;
        this.consulServers = Object.fromEntries(servers.map((s) => [s.host.name, s.host.address]));
        this.consulHttpAddr = consulHttpAddr;
        this.consulUiUrl = pulumi.interpolate`${consulHttpAddr}/ui/`;
        this.consulHttpsAddr = consulHttpsAddr;
        this.consulCaCert = consulCa?.caCert;
        this.consulLeader = cluster.leader;
        this.consulUpgradeSnapshot = upgradeSnapshot.file;
        this.consulDatacenters = cluster.datacenters;
        this.consulPrimaryDatacenter = primaryDatacenter;
        // A secondary exports neither of the primary's: its own consumers never need them, and
        // every export is one more place the primary's trust can be read from.
        this.consulCaKey = federation ? undefined : consulCa?.caKey;
        this.consulMembers = cluster.members;
        this.dockerHosts = Object.fromEntries([...daemons].map(([n, d]) => [n, d.dockerHost]));
        this.swarmManager = swarm?.managerDockerHost;
        this.swarmNodes = swarm?.nodes;
        this.gossipKey = pulumi.secret(gossipKey);
        this.aclBootstrapToken = federation ? undefined : aclToken;
        this.dockerTls = dockerTls
            ? pulumi.secret({ caCert: dockerTls.caCert, clientCert: dockerTls.leaves.client.cert, clientKey: dockerTls.leaves.client.key })
            : undefined;
        const byCa = <T>(pick: (ca: CertificateAuthority) => pulumi.Output<Record<string, T>>) =>
            pulumi
                .all({ consul: consulCa ? pick(consulCa) : ({} as Record<string, T>), docker: dockerTls ? pick(dockerTls) : ({} as Record<string, T>) })
                .apply((cas) => Object.fromEntries(Object.entries(cas).flatMap(([ca, certs]) => Object.entries(certs).map(([id, at]) => [`${ca}:${id}`, at]))));
        this.certificateExpiry = byCa((ca) => ca.expiries);
        this.certificateRenewal = byCa((ca) => ca.renewals);
        // Recorded only once every agent is verified in the cluster: an up that fails half-way
        // leaves the last stage applied on record, and the next one takes this stage again.
        this.consulTlsStage = cluster.members.apply(() => tlsMoveOf(args).next);
        this.consulAclStage = cluster.members.apply(() => aclMoveOf(args).next);
        this.registerOutputs({
            consulHttpAddr: this.consulHttpAddr,
            consulLeader: this.consulLeader,
            consulMembers: this.consulMembers,
            swarmNodes: this.swarmNodes,
        });
    }
}

/**
 * Machines the program made for the hosts itself (the dev stack's lab, in lab/hosts): each host's
 * machine, by host name, and the key that logs in on all of them.
 */
export interface OwnMachines {
    privateKey: pulumi.Output<string>;
    containers: Record<string, pulumi.Resource & { id: pulumi.Output<string> }>;
}

/**
 * The component's arguments for validated stack config: the machines the program made, when it
 * made its own hosts, are each host's machine and what it waits for.
 */
export function consulSwarmArgs(
    settings: StackSettings,
    install: ResolvedInstall,
    sshPrivateKey: pulumi.Input<string> | undefined,
    lab?: OwnMachines,
): ConsulSwarmArgs {
    const key = lab ? lab.privateKey : sshPrivateKey;
    if (key === undefined) {
        throw new Error("consulSwarmArgs: no SSH private key and no lab");
    }
    return {
        datacenter: settings.datacenter,
        sshPrivateKey: key,
        // The file's sections are the component's args (their types are), the install resolved.
        consul: { ...settings.consul, install },
        docker: settings.docker,
        certificates: settings.certificates,
        hosts: settings.hosts.map((h) => ({
            ...h,
            // A lab host replaced by hand (or by a new image) is a new machine: set it up again.
            machineId: lab?.containers[h.name].id,
            dependsOn: lab ? [lab.containers[h.name]] : undefined,
        })),
    };
}

/** The cluster the config asks for, as the transition judge compares it with the applied one. */
export function clusterShape(args: Pick<ConsulSwarmArgs, "datacenter" | "hosts" | "consul" | "consulTls" | "consulAcl">): pulumi.Output<ClusterShape> {
    const withRole = (role: Role) => args.hosts.filter((h) => h.roles.includes(role));
    const byName = (hosts: ConsulSwarmHost[]) => pulumi.all(Object.fromEntries(hosts.map((h) => [h.name, h.address])));
    const managers = withRole("swarm-manager");
    const tls = tlsMoveOf(args).next;
    const acl = aclMoveOf(args).next;
    return pulumi
        .all([byName(args.hosts), byName(withRole("consul-server")), byName(managers), byName(withRole("swarm-agent"))])
        .apply(([hosts, servers, swarmManagers, swarmWorkers]) => ({
            datacenter: args.datacenter,
            // A stage between off and on only while a switch is under way (shapes applied before stages were have none).
            consulTls: tls >= 1,
            ...(tls === 1 || tls === 2 ? { consulTlsStage: tls } : {}),
            consulAcl: acl >= 1,
            ...(acl === 1 ? { consulAclStage: acl } : {}),
            consulVersion: args.consul.version,
            servers,
            swarmManagers,
            swarmWorkers,
            ...(managers.length > 0 ? { firstSwarmManager: managers[0].name } : {}),
            hosts,
        }));
}

/**
 * What a secondary datacenter reads from its primary's stack. A missing output is an error that
 * says what the primary needs, raised before anything runs on a host.
 */
export function federationFrom(primaryStack: string, opts?: pulumi.CustomResourceOptions): ConsulSwarmFederation {
    const ref = new pulumi.StackReference(`federation-primary`, { name: primaryStack }, opts);
    const need = <T>(output: string, fix: string): pulumi.Output<T> =>
        ref.getOutput(output).apply((v) => {
            if (v === undefined || v === null) {
                throw new Error(`consul-swarm: federation.primaryStack "${primaryStack}" has no output ${output}: ${fix}`);
            }
            return v as T;
        });
    const runIt = "run `pulumi up` on that stack with this version of consul-swarm first";
    const caCert = need<string>("consulCaCert", "the primary needs Consul TLS (its consul.tls)");
    const caKey = need<string>("consulCaKey", `the primary needs Consul TLS; ${runIt}`);
    return {
        primary: {
            datacenter: need<string>("datacenter", runIt),
            servers: need<Record<string, string>>("consulServers", runIt),
            version: need<string>("consulVersion", runIt),
        },
        gossipKey: need<string>("gossipKey", runIt),
        managementToken: need<string>("aclBootstrapToken", "the primary needs ACLs (its consul.acl)"),
        consulCa: pulumi.secret(pulumi.all([caCert, caKey]).apply(([cert, key]) => ({ cert, key }))),
    };
}
