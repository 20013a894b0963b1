// Pure renderers for what the stack sends to hosts: shell scripts with their parameters, config
// files and unit files. No resources here, so every rendering is unit-tested byte for byte.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Quotes a value for POSIX sh: the only safe way a value enters a script's text. */
export function shq(value: string | number | boolean): string {
    return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

const scriptCache = new Map<string, string>();

/** Reads components/scripts/NAME.sh once per program run. */
export function loadScript(name: string): string {
    let body = scriptCache.get(name);
    if (body === undefined) {
        body = stripComments(fs.readFileSync(path.join(__dirname, "scripts", `${name}.sh`), "utf8"));
        scriptCache.set(name, body);
    }
    return body;
}

/**
 * A script as it goes to a host: without its comment lines and blank lines. Comments say why for
 * the reader of the file; on the host they change nothing, so an edited comment is no change to
 * any step, and each script is stored in state without them. (The scripts have no here-documents
 * and no multi-line strings with lines that start with `#`: a unit test keeps it so.)
 */
export function stripComments(script: string): string {
    return script
        .split("\n")
        .filter((l) => !/^\s*(#.*)?$/.test(l))
        .join("\n")
        .concat("\n");
}

/**
 * A remote script: the named file's body behind a block of quoted variable assignments.
 * Values that are secret never go through here: they travel on stdin.
 */
/**
 * A step that owns a part of its host (see scripts/owner-lib.sh): its create claims the part, its
 * delete acts only while the part is still its own. `id` names the step (component type and name).
 */
export interface StepOwner {
    part: string;
    id: string;
    action: "claim" | "check";
}

/**
 * A step's repair count (from its part's drift check) as a script variable: a new count is a new
 * script, which makes `up` run the step again. Absent until the first repair, so a step made
 * before drift checks existed is not changed by them.
 */
export function repairVars(repairs: number | undefined): Record<string, number> {
    return repairs ? { REPAIR: repairs } : {};
}

export function renderScript(name: string, vars: Record<string, string | number | boolean>, libs: string[] = [], owner?: StepOwner): string {
    if (owner) {
        vars = { ...vars, OWNER_ID: owner.id, OWNER_PART: owner.part };
        libs = ["owner-lib", ...libs];
    }
    const header = Object.keys(vars)
        .sort()
        .map((k) => {
            if (!/^[A-Z][A-Z0-9_]*$/.test(k)) {
                throw new Error(`renderScript(${name}): bad variable name ${k}`);
            }
            return `${k}=${shq(vars[k])}`;
        })
        .join("\n");
    const parts = libs.map(loadScript);
    if (owner) {
        parts.push(`owner_${owner.action}`);
    }
    parts.push(loadScript(name));
    const body = parts.join("\n");
    return `#!/bin/sh\n# consul-swarm: ${name}\nset -eu\n${header}\n${body}`;
}

export function sha256(data: string | Buffer): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}

/** SHA-256 of a local file, streamed so a 100 MB binary costs no memory. */
export function sha256File(file: string): string {
    const hash = crypto.createHash("sha256");
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.alloc(1 << 20);
        let n: number;
        while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
            hash.update(buf.subarray(0, n));
        }
    } finally {
        fs.closeSync(fd);
    }
    return hash.digest("hex");
}

export type OsFamily = "rhel" | "debian";

export interface HostFacts {
    osId: string;
    osVersion: string;
    osFamily: OsFamily;
    initSystem: string;
    hostname: string;
}

/** Parses what components/scripts/host-facts.sh prints (key=value lines). */
export function parseHostFacts(stdout: string): HostFacts {
    const kv = new Map<string, string>();
    for (const line of stdout.split("\n")) {
        const i = line.indexOf("=");
        if (i > 0) {
            kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
        }
    }
    const osId = kv.get("os_id") ?? "unknown";
    const like = kv.get("os_like") ?? "";
    const rhel = /(^|\s)(rhel|centos|fedora|rocky|almalinux|ol)(\s|$)/.test(`${osId} ${like}`);
    return {
        osId,
        osVersion: kv.get("os_version") ?? "",
        osFamily: rhel ? "rhel" : "debian",
        initSystem: kv.get("init") ?? "unknown",
        hostname: kv.get("hostname") ?? "",
    };
}

// ---------------------------------------------------------------------------------------------
// Docker daemon

export interface DockerApiOptions {
    tcpPort: number;
    bindAddress: string;
    /** TLS with client-certificate auth (tlsverify); the material reaches the host on stdin. */
    tls: boolean;
}

/** Where the TLS material lives on a host. */
export const DOCKER_TLS_DIR = "/etc/docker/tls";

/** Where a script on the host itself reaches the TCP API. */
function pingAddress(opts: DockerApiOptions): string {
    return opts.bindAddress === "0.0.0.0" ? "127.0.0.1" : opts.bindAddress;
}

export function dockerHosts(opts: DockerApiOptions): string[] {
    return ["unix:///var/run/docker.sock", `tcp://${opts.bindAddress}:${opts.tcpPort}`];
}

/** The keys the stack owns in daemon.json; every other key of an existing file is kept. */
export function dockerDaemonJson(opts: DockerApiOptions): string {
    const tls = opts.tls
        ? {
              tls: true,
              tlscacert: `${DOCKER_TLS_DIR}/ca.pem`,
              tlscert: `${DOCKER_TLS_DIR}/cert.pem`,
              tlskey: `${DOCKER_TLS_DIR}/key.pem`,
              tlsverify: true,
          }
        : {};
    return JSON.stringify({ hosts: dockerHosts(opts), ...tls }, null, 2) + "\n";
}

/**
 * systemd drop-in for Debian-family hosts: the packaged unit passes `-H fd://`, and dockerd refuses
 * to start when both the command line and daemon.json name hosts, so the drop-in clears ExecStart.
 * DOCKERD is replaced on the host by the path of its own dockerd binary.
 */
export const DOCKER_DROPIN = "[Service]\nExecStart=\nExecStart=@DOCKERD@ $DOCKER_OPTS\n";

/** The OPTIONS flags for /etc/sysconfig/docker on CentOS/RHEL 7, where the tutorial puts them. */
export function dockerSysconfigFlags(opts: DockerApiOptions): string {
    const hosts = dockerHosts(opts).map((h) => `-H ${h}`);
    const tls = opts.tls
        ? [`--tlsverify`, `--tlscacert=${DOCKER_TLS_DIR}/ca.pem`, `--tlscert=${DOCKER_TLS_DIR}/cert.pem`, `--tlskey=${DOCKER_TLS_DIR}/key.pem`]
        : [];
    return [...hosts, ...tls].join(" ");
}

/** The whole DockerDaemon script for a host of the given OS family. */
export function dockerDaemonScript(family: OsFamily, opts: DockerApiOptions, ownerId = "docker", repairs?: number): string {
    const common = { ...repairVars(repairs), ...dockerApiVars(family, opts) };
    const owner: StepOwner = { part: "docker", id: ownerId, action: "claim" };
    if (family === "rhel") {
        return renderScript("docker-sysconfig", { ...common, FLAGS: dockerSysconfigFlags(opts) }, ["docker-lib", "docker-tls-files", "record-lib", "retry-lib"], owner);
    }
    return renderScript(
        "docker-daemon-json",
        { ...common, DAEMON_JSON: dockerDaemonJson(opts), DROPIN: DOCKER_DROPIN },
        ["docker-lib", "docker-tls-files", "record-lib", "retry-lib"],
        owner,
    );
}

/** The files dockerd's config is made of, per OS family: what the Docker step writes and restarts for. */
function dockerConfigFiles(family: OsFamily): string[] {
    return family === "rhel"
        ? ["/etc/sysconfig/docker", DOCKER_TLS_DIR]
        : ["/etc/docker/daemon.json", "/etc/systemd/system/docker.service.d/consul-swarm.conf", DOCKER_TLS_DIR];
}

/** What the Docker scripts need to know of the API and its files. */
function dockerApiVars(family: OsFamily, opts: DockerApiOptions) {
    return {
        FILES: dockerConfigFiles(family).join(" "),
        PING_ADDR: pingAddress(opts),
        PORT: opts.tcpPort,
        TLS: opts.tls ? "yes" : "no",
        TLS_DIR: DOCKER_TLS_DIR,
    };
}

/**
 * A swarm node's dockerd restart in its turn, after the previous host's (see DockerDaemon).
 * `configRun` is the Docker step's last output: a new run of that step makes this one look again.
 */
export function dockerRestartScript(family: OsFamily, opts: DockerApiOptions, configRun: string): string {
    return renderScript(
        "docker-restart",
        { ...dockerApiVars(family, opts), CONFIG_RUN: sha256(configRun ?? "").slice(0, 16) },
        ["docker-lib", "retry-lib"],
    );
}

/** The Docker step's read-only drift probe (see DriftCheck). */
export function dockerDaemonDriftScript(family: OsFamily): string {
    return renderScript("docker-drift", { FILES: dockerConfigFiles(family).join(" ") }, ["docker-lib", "record-lib"]);
}

export function dockerDaemonDeleteScript(family: OsFamily, ownerId = "docker"): string {
    return renderScript(family === "rhel" ? "docker-sysconfig-restore" : "docker-daemon-json-restore", { TLS_DIR: DOCKER_TLS_DIR }, [], {
        part: "docker",
        id: ownerId,
        action: "check",
    });
}

// ---------------------------------------------------------------------------------------------
// Consul

export interface ConsulAgentConfigArgs {
    datacenter: string;
    nodeName: string;
    address: string;
    server: boolean;
    ui: boolean;
    logLevel: string;
    /** Gossip encryption key (a secret: the rendered file travels on stdin only). */
    encrypt?: string;
    /**
     * ACLs with default deny: the management token (servers only, as initial_management) and the
     * agents' least-privilege token (secrets, like the whole file).
     */
    acl?: { managementToken: string; agentToken: string };
    /** TLS from the stack's CA (files in CONSUL_TLS_DIR): RPC verified both ways, HTTPS on 8501. */
    tls?: boolean;
    /** Consul's DNS interface on CONSUL_DNS_PORT (default on); false turns it off. */
    dns?: boolean;
    options?: Record<string, unknown>;
}

export const CONSUL_DATA_DIR = "/opt/consul";
export const CONSUL_TLS_DIR = "/etc/consul.d/tls";
export const CONSUL_HTTPS_PORT = 8501;
export const CONSUL_DNS_PORT = 8600;
/** Where the service step keeps the agent's ACL token for the stack's own scripts (0600, root). */
export const CONSUL_TOKEN_FILE = "/var/lib/consul-swarm/consul/token";

/** A UUID (the form Consul wants for token secrets) from 16 random bytes in hex. */
export function uuidFromHex(hex: string): string {
    if (!/^[0-9a-f]{32}$/.test(hex)) {
        throw new Error("uuidFromHex: need 32 hex digits");
    }
    const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
export const CONSUL_CONFIG_DIR = "/etc/consul.d";

/**
 * HashiCorp's production recommendations, each overridable through `consul.options` (merged key by
 * key over these). Why each one is here is in the README's "Production defaults".
 */
export function consulProductionDefaults(server: boolean): Record<string, unknown> {
    return {
        // The default of 5 is meant for small development machines: 1 fails over in about 2 s.
        performance: { raft_multiplier: 1 },
        // Air-gapped sites and the lab have no internet: never phone home.
        disable_update_check: true,
        // Prometheus on /v1/agent/metrics?format=prometheus (needs a token with agent:read).
        telemetry: { prometheus_retention_time: "60s", disable_hostname: true },
        // A restarted or rebooted agent that left goes back into the cluster from its own snapshot.
        rejoin_after_leave: true,
        ...(server
            ? {
                  // Dead servers leave raft by themselves; a new server votes once stable; the
                  // stack's day-2 steps wait for /v1/operator/autopilot/health to say Healthy.
                  autopilot: {
                      cleanup_dead_servers: true,
                      last_contact_threshold: "200ms",
                      max_trailing_logs: 250,
                      server_stabilization_time: "10s",
                  },
              }
            : {}),
    };
}

/** Merges `over` into `base`, object keys recursively; anything else in `over` wins. */
export function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    for (const [k, v] of Object.entries(over)) {
        out[k] = isObject(out[k]) && isObject(v) ? mergeDeep(out[k] as Record<string, unknown>, v) : v;
    }
    return out;
}

/** Sorts object keys at every level, so the same inputs always give the same bytes. */
function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) {
        return v.map(sortKeys);
    }
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    }
    return v;
}

/** consul.json for one agent: the production defaults, then the user's options, then what the stack owns. */
export function consulAgentConfig(a: ConsulAgentConfigArgs): string {
    const cfg: Record<string, unknown> = {
        ...mergeDeep(consulProductionDefaults(a.server), a.options ?? {}),
        advertise_addr: a.address,
        bind_addr: a.address,
        client_addr: "0.0.0.0",
        data_dir: CONSUL_DATA_DIR,
        datacenter: a.datacenter,
        log_level: a.logLevel,
        node_name: a.nodeName,
        server: a.server,
        ui_config: { enabled: a.ui },
    };
    const ports: Record<string, number> = { dns: a.dns === false ? -1 : CONSUL_DNS_PORT };
    if (a.encrypt !== undefined) {
        cfg.encrypt = a.encrypt;
    }
    if (a.tls) {
        ports.https = CONSUL_HTTPS_PORT;
        cfg.tls = {
            defaults: {
                ca_file: `${CONSUL_TLS_DIR}/ca.pem`,
                cert_file: `${CONSUL_TLS_DIR}/cert.pem`,
                key_file: `${CONSUL_TLS_DIR}/key.pem`,
                // HTTPS clients (browsers, the CLI) need no certificate of their own; ACLs guard the API.
                verify_incoming: false,
                verify_outgoing: true,
            },
            internal_rpc: { verify_incoming: true, verify_server_hostname: true },
        };
    }
    cfg.ports = ports;
    if (a.acl !== undefined) {
        cfg.acl = {
            default_policy: "deny",
            enable_token_persistence: true,
            enabled: true,
            tokens: a.server ? { agent: a.acl.agentToken, initial_management: a.acl.managementToken } : { agent: a.acl.agentToken },
        };
    }
    return JSON.stringify(sortKeys(cfg), null, 2) + "\n";
}

export const CONSUL_UNIT = `[Unit]
Description=Consul agent (managed by consul-swarm)
Documentation=https://developer.hashicorp.com/consul/docs
Wants=network-online.target
After=network-online.target

[Service]
User=consul
Group=consul
# The start stamp tells the service step whether the running agent predates its files.
RuntimeDirectory=consul
ExecStartPre=/bin/touch /run/consul/started
ExecStart=/usr/local/bin/consul agent -config-dir=${CONSUL_CONFIG_DIR}
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM stops a server without leaving the cluster, so a restart keeps its raft membership.
KillSignal=SIGTERM
Restart=on-failure
RestartSec=2
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;

export interface ConsulServiceScriptArgs {
    nodeName: string;
    server: boolean;
    /**
     * The servers' addresses, this host's own left out: the agent joins them itself when it starts
     * (retry_join), and a rebuilt bootstrap server asks them whether the cluster runs.
     */
    peers: string[];
    /** Tutorial mode: start this server with bootstrap on its very first start only. */
    bootstrap: boolean;
    /**
     * Expect mode: bootstrap_expect, in a file of its own that only a first start reads, so a
     * changed server count restarts no running server.
     */
    bootstrapExpect?: number;
    /** How long a restart of a running server waits for the cluster to be healthy again. */
    waitSeconds: number;
    /** The binary the install step put in place (checked before the agent starts on it). */
    binarySha256: string;
    /** Forward the `consul` domain from the host's resolver (systemd-resolved or dnsmasq) to the agent. */
    dnsForwarding?: boolean;
    /** The step's identity for the host's ownership record (see StepOwner). */
    ownerId?: string;
    /** Repairs counted by the agent's drift check (see repairVars). */
    repairs?: number;
}

export function consulServiceScript(a: ConsulServiceScriptArgs): string {
    return renderScript(
        "consul-service",
        {
            ...repairVars(a.repairs),
            BINARY_SHA: a.binarySha256,
            BOOTSTRAP: a.bootstrap ? "yes" : "no",
            ...(a.bootstrapExpect !== undefined ? { BOOTSTRAP_EXPECT: a.bootstrapExpect } : {}),
            CONFIG_DIR: CONSUL_CONFIG_DIR,
            DNS_FORWARD: a.dnsForwarding ? "yes" : "no",
            DNS_PORT: CONSUL_DNS_PORT,
            DATA_DIR: CONSUL_DATA_DIR,
            NODE: a.nodeName,
            PEERS: [...a.peers].sort().join(" "),
            SERVER: a.server ? "yes" : "no",
            TLS_DIR: CONSUL_TLS_DIR,
            TOKEN_FILE: CONSUL_TOKEN_FILE,
            UNIT: CONSUL_UNIT,
            WAIT_SECONDS: a.waitSeconds,
        },
        ["consul-lib", "consul-dns-lib", "record-lib", "retry-lib"],
        { part: "consul-service", id: a.ownerId ?? "consul-service", action: "claim" },
    );
}

/** The deferred restart of a server that led the cluster while the others restarted. */
export function consulDeferredRestartScript(nodeName: string, waitSeconds: number, serviceRun: string): string {
    return renderScript(
        "consul-deferred-restart",
        {
            CONFIG_DIR: CONSUL_CONFIG_DIR,
            DATA_DIR: CONSUL_DATA_DIR,
            NODE: nodeName,
            SERVER: "yes",
            TOKEN_FILE: CONSUL_TOKEN_FILE,
            WAIT_SECONDS: waitSeconds,
            // Which run of the service step this follows: a new run of it makes this step look again.
            SERVICE_RUN: sha256(serviceRun ?? "").slice(0, 16),
        },
        ["consul-lib", "retry-lib"],
    );
}

/** The agents' ACL policy: register their own node, read services (Consul's documented agent policy). */
export const CONSUL_AGENT_POLICY_RULES = 'node_prefix "" { policy = "write" }\nservice_prefix "" { policy = "read" }\n';

/** What Consul's DNS interface needs to answer <node>.node.consul and <service>.service.consul. */
export const CONSUL_DNS_POLICY_RULES = 'node_prefix "" { policy = "read" }\nservice_prefix "" { policy = "read" }\n';

/** Where the swarm publishes its manager address, join tokens and cluster id. */
export const SWARM_KV_PREFIX = "consul-swarm/swarm";

/** The swarm hosts' ACL policy: their own KV prefix, nothing else. */
export function swarmPolicyRules(kvPrefix: string): string {
    return `key_prefix "${kvPrefix}/" { policy = "write" }\n`;
}

export function consulServiceRemoveScript(ownerId = "consul-service"): string {
    return renderScript(
        "consul-service-remove",
        { CONFIG_DIR: CONSUL_CONFIG_DIR, DATA_DIR: CONSUL_DATA_DIR, TLS_DIR: CONSUL_TLS_DIR, TOKEN_FILE: CONSUL_TOKEN_FILE },
        ["consul-dns-lib"],
        { part: "consul-service", id: ownerId, action: "check" },
    );
}

/** Consul's members table, as printed by `consul members` (name, address, status, type). */
export interface ConsulMember {
    name: string;
    address: string;
    status: string;
    type: string;
}

/** Parses the verify script's output: `leader=ADDR` and `member=NAME ADDR STATUS TYPE` lines. */
export function parseClusterStatus(stdout: string): { leaderAddress: string; leader: string; members: ConsulMember[] } {
    let leaderAddress = "";
    const members: ConsulMember[] = [];
    for (const line of stdout.split("\n")) {
        if (line.startsWith("leader=")) {
            leaderAddress = line.slice("leader=".length).trim();
        } else if (line.startsWith("member=")) {
            const [name, address, status, type] = line.slice("member=".length).trim().split(/\s+/);
            members.push({ name, address, status, type });
        }
    }
    const leaderIp = leaderAddress.replace(/:\d+$/, "");
    const leader = members.find((m) => m.address.replace(/:\d+$/, "") === leaderIp)?.name ?? "";
    return { leaderAddress, leader, members: members.sort((a, b) => a.name.localeCompare(b.name)) };
}

/** Parses `node=HOSTNAME STATUS AVAILABILITY MANAGER` lines from the swarm verify script. */
export function parseSwarmNodes(stdout: string): { hostname: string; status: string; availability: string; manager: string }[] {
    return stdout
        .split("\n")
        .filter((l) => l.startsWith("node="))
        .map((l) => {
            const [hostname, status, availability, manager] = l.slice("node=".length).trim().split(/\s+/);
            return { hostname, status, availability, manager: manager ?? "" };
        })
        .sort((a, b) => a.hostname.localeCompare(b.hostname));
}
