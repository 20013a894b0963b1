// What the Consul parts send to hosts: the agent's config file and unit, the scripts with their
// values, ACL rules; and what they parse back. Pure functions, unit-tested byte for byte.
import { renderScript, repairVars, sha256 } from "../shared/script";
import { CONSUL_TLS_OFF, ConsulTlsStage, consulTlsBlock, tlsRpcFlags } from "./tlsStages";

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
    acl?: { managementToken: string; agentToken: string; defaultPolicy?: "allow" | "deny" };
    /**
     * TLS from the stack's CA (files in CONSUL_TLS_DIR), HTTPS on 8501 from stage 1, RPC verified
     * both ways at stage 3 (see tlsStages.ts); none, or 0: no TLS.
     */
    tlsStage?: ConsulTlsStage;
    /** Consul's DNS interface on CONSUL_DNS_PORT (default on); false turns it off. */
    dns?: boolean;
    options?: Record<string, unknown>;
    /**
     * A secondary datacenter: the primary's name (ACLs are authoritative there), and on servers
     * the token that replicates its ACLs (a secret, like the whole file).
     */
    federation?: { primaryDatacenter: string; replicationToken?: string; primaryServers?: string[] };
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
 * key over these). Why each one is here is in docs/security.md, "Production defaults".
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
                  // The leader promotes only on its autopilot tick, every 10 s (not configurable):
                  // at Consul's default of 10 s a server that joins a new leader (seen healthy ~2 s
                  // in) misses the first tick and waits 20 s; 5 s makes the first tick, and a
                  // server returning from a restart votes 5 s sooner.
                  autopilot: {
                      cleanup_dead_servers: true,
                      last_contact_threshold: "200ms",
                      max_trailing_logs: 250,
                      server_stabilization_time: "5s",
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
    const tls = consulTlsBlock(a.tlsStage ?? CONSUL_TLS_OFF, CONSUL_TLS_DIR);
    if (tls !== undefined) {
        ports.https = CONSUL_HTTPS_PORT;
        cfg.tls = tls;
    }
    cfg.ports = ports;
    if (a.acl !== undefined) {
        cfg.acl = {
            // Allow only while ACLs are being switched on or off (see aclStages.ts).
            default_policy: a.acl.defaultPolicy ?? "deny",
            enable_token_persistence: true,
            enabled: true,
            tokens: a.server ? { agent: a.acl.agentToken, initial_management: a.acl.managementToken } : { agent: a.acl.agentToken },
        };
    }
    if (a.federation !== undefined) {
        cfg.primary_datacenter = a.federation.primaryDatacenter;
        const acl = cfg.acl as { tokens?: Record<string, string>; enable_token_replication?: boolean } | undefined;
        if (acl && a.server && a.federation.replicationToken !== undefined) {
            acl.enable_token_replication = true;
            acl.tokens = { ...acl.tokens, replication: a.federation.replicationToken };
        }
        // A server joins the primary's over the WAN by itself when it starts: with ACLs, the
        // token the stack's join step uses resolves only once it has (see consul-wan-join.sh).
        if (a.server && a.federation.primaryServers !== undefined) {
            cfg.retry_join_wan = [...a.federation.primaryServers].sort();
        }
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
    /** The agent's TLS stage: a change of its RPC flags alone is reloaded, and proved by what the agent then runs with. */
    tlsStage?: ConsulTlsStage;
    /** ACLs on with default allow (being switched): a token the cluster does not know yet is asked again without it. */
    aclAllow?: boolean;
}

/**
 * retry_join in a file of its own: the agent joins the servers by itself whenever it starts, and
 * only a start reads it, so a changed server list restarts nothing.
 */
export function consulRetryJoinConfig(peers: string[]): string {
    return JSON.stringify({ retry_join: [...peers].sort() }) + "\n";
}

/** Tutorial mode's -bootstrap, for the one server's very first start only (the service script decides from the host's state). */
export function consulBootstrapConfig(): string {
    return JSON.stringify({ bootstrap: true }) + "\n";
}

/** Expect mode's bootstrap_expect, in a file of its own: only a first start (raft empty) reads it, so a changed server count restarts nothing. */
export function consulBootstrapExpectConfig(servers: number): string {
    return JSON.stringify({ bootstrap_expect: servers }) + "\n";
}

/** The RPC flags as the agent's runtime config shows them (its /v1/agent/self DebugConfig.TLS.InternalRPC); none without TLS. */
function tlsRpcRuntime(stage: ConsulTlsStage): string {
    if (stage === CONSUL_TLS_OFF) {
        return "";
    }
    const f = tlsRpcFlags(stage);
    return `"VerifyIncoming":${f.verifyIncoming} "VerifyOutgoing":${f.verifyOutgoing} "VerifyServerHostname":${f.verifyServerHostname}`;
}

export function consulServiceScript(a: ConsulServiceScriptArgs): string {
    return renderScript(
        "consul-service",
        {
            ...repairVars(a.repairs),
            BINARY_SHA: a.binarySha256,
            BOOTSTRAP_JSON: a.bootstrap ? consulBootstrapConfig() : "",
            BOOTSTRAP_EXPECT_JSON: a.bootstrapExpect !== undefined ? consulBootstrapExpectConfig(a.bootstrapExpect) : "",
            CONFIG_DIR: CONSUL_CONFIG_DIR,
            DNS_FORWARD: a.dnsForwarding ? "yes" : "no",
            DNS_PORT: CONSUL_DNS_PORT,
            DATA_DIR: CONSUL_DATA_DIR,
            NODE: a.nodeName,
            PEERS: [...a.peers].sort().join(" "),
            RETRY_JOIN_JSON: a.peers.length > 0 ? consulRetryJoinConfig(a.peers) : "",
            SERVER: a.server ? "yes" : "no",
            TLS_DIR: CONSUL_TLS_DIR,
            TLS_RPC: tlsRpcRuntime(a.tlsStage ?? CONSUL_TLS_OFF),
            ...(a.aclAllow ? { ACL_ALLOW: "yes" } : {}),
            TOKEN_FILE: CONSUL_TOKEN_FILE,
            UNIT: CONSUL_UNIT,
            WAIT_SECONDS: a.waitSeconds,
        },
        ["consul-lib", "consul-dns-lib", "record-lib", "retry-lib"],
        { part: "consul-service", id: a.ownerId ?? "consul-service", action: "claim" },
    );
}

/** The deferred restart of a server that led the cluster while the others restarted. */
export function consulDeferredRestartScript(nodeName: string, waitSeconds: number, serviceRun: string, aclAllow = false): string {
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
            ...(aclAllow ? { ACL_ALLOW: "yes" } : {}),
        },
        ["consul-lib", "retry-lib"],
    );
}

/** The agents' ACL policy: register their own node, read services (Consul's documented agent policy). */
export const CONSUL_AGENT_POLICY_RULES = 'node_prefix "" { policy = "write" }\nservice_prefix "" { policy = "read" }\n';

/** What Consul's DNS interface needs to answer <node>.node.consul and <service>.service.consul. */
export const CONSUL_DNS_POLICY_RULES = 'node_prefix "" { policy = "read" }\nservice_prefix "" { policy = "read" }\n';

/**
 * A secondary datacenter's ACL replication token (Consul's documented policy for replicating
 * tokens, policies, roles and the intentions in config entries).
 */
export const CONSUL_REPLICATION_POLICY_RULES = 'acl = "write"\noperator = "write"\nservice_prefix "" { policy = "read" intentions = "read" }\n';

/** The swarm managers' ACL policy: their own KV prefix, nothing else (they publish the join tokens). */
export function swarmPolicyRules(kvPrefix: string): string {
    return `key_prefix "${kvPrefix}/" { policy = "write" }\n`;
}

/**
 * The swarm workers' ACL policy: what joining as a worker reads (the worker join token, the
 * manager's address) and the restart turns they take; never the manager join token, with which a
 * worker host could make itself a manager.
 */
export function swarmWorkerPolicyRules(kvPrefix: string): string {
    return (
        `key "${kvPrefix}/worker-token" { policy = "read" }\n` +
        `key "${kvPrefix}/manager-addr" { policy = "read" }\n` +
        `key_prefix "${kvPrefix}/restart-turns/" { policy = "write" }\n`
    );
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
export function parseClusterStatus(stdout: string): { leaderAddress: string; leader: string; members: ConsulMember[]; datacenters: string[] } {
    let leaderAddress = "";
    const members: ConsulMember[] = [];
    const datacenters: string[] = [];
    for (const line of stdout.split("\n")) {
        if (line.startsWith("datacenter=")) {
            datacenters.push(line.slice("datacenter=".length).trim());
        } else if (line.startsWith("leader=")) {
            leaderAddress = line.slice("leader=".length).trim();
        } else if (line.startsWith("member=")) {
            const [name, address, status, type] = line.slice("member=".length).trim().split(/\s+/);
            members.push({ name, address, status, type });
        }
    }
    const leaderIp = leaderAddress.replace(/:\d+$/, "");
    const leader = members.find((m) => m.address.replace(/:\d+$/, "") === leaderIp)?.name ?? "";
    return { leaderAddress, leader, members: members.sort((a, b) => a.name.localeCompare(b.name)), datacenters: datacenters.sort() };
}
