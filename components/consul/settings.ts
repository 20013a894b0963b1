// The Consul part of the stack's config: the release and its install source, the agents'
// settings, federation with another stack's datacenter, and the order servers restart in.
import { bool, ConfigError, Problems, section, str, unknownKeys } from "../shared/fields";
import { Role } from "../host/settings";
import type { ConsulSwarmConsulArgs } from "../consulSwarm";

/** Where the Consul binary comes from. */
export type ConsulInstall =
    /**
     * A release zip or bare binary; `sha256` is the download's checksum. `binarySha256`, the
     * executable's own, is read from the download unless given (then nothing is downloaded here).
     */
    | { kind: "url"; url: string; sha256: string; binarySha256?: string }
    | { kind: "file"; file: string }
    /** The binary built by `npm run toolchain` (the lab's default). */
    | { kind: "toolchain" };

/** An install source as the program uses it: the toolchain resolved to its file. */
export type ResolvedInstall = ConsulInstall & { kind: "url" | "file" };

export type BootstrapMode = "tutorial" | "expect";

/**
 * The config file's consul section, parsed: the component's own args (ConsulSwarmConsulArgs, where
 * each field is documented), with the install source as the file gives it (resolved later).
 */
export type ConsulSettings = Omit<ConsulSwarmConsulArgs, "install"> & { install: ConsulInstall };

export interface FederationSettings {
    /** The primary datacenter's stack, as a StackReference names it ("dc1" or "org/project/dc1"). */
    primaryStack: string;
}

const VERSION_RE = /^\d+\.\d+\.\d+$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Agent options the stack sets itself or depends on (its joins, health checks and snapshots reach
 * each agent on its address and the standard ports; its certificates are for `.consul`): each with
 * the setting to use instead.
 */
const CONSUL_OWNED_OPTIONS: Record<string, string> = {
    server: "a host is a server by its role consul-server (hosts[].roles)",
    bootstrap: "use hosts[].bootstrap (tutorial mode) or consul.bootstrapMode",
    bootstrap_expect: 'use consul.bootstrapMode: "expect"',
    encrypt: "the stack makes the gossip key and rolls it out",
    encrypt_verify_incoming: "gossip encryption is the stack's, always on",
    encrypt_verify_outgoing: "gossip encryption is the stack's, always on",
    node_name: "the node name is hosts[].name",
    node_id: "the node id is derived from the host's machine by the stack",
    datacenter: "use datacenter",
    primary_datacenter: "use federation.primaryStack",
    domain: "the stack's certificates and DNS forwarding are for the consul domain",
    alt_domain: "the stack's certificates and DNS forwarding are for the consul domain",
    data_dir: "the stack keeps the data in its own directory",
    acl: "use consul.acl",
    tls: "use consul.tls",
    ca_file: "use consul.tls (the stack's CA)",
    cert_file: "use consul.tls (the stack's certificates)",
    key_file: "use consul.tls (the stack's certificates)",
    verify_incoming: "use consul.tls",
    verify_outgoing: "use consul.tls",
    verify_server_hostname: "use consul.tls",
    auto_encrypt: "use consul.tls",
    ports: "the stack's joins, checks and snapshots use the standard ports",
    addresses: "use consul.httpOnLoopback: true for plain HTTP on loopback only (HTTPS stays on the network); the stack's checks and snapshots reach every agent on its address",
    client_addr: "the stack's checks and snapshots reach every agent's API on its address",
    bind_addr: "the bind address is hosts[].address",
    advertise_addr: "the advertised address is hosts[].address",
    advertise_addr_wan: "the advertised address is hosts[].address",
    retry_join: "servers join each other from hosts",
    retry_join_wan: "use federation.primaryStack",
    start_join: "servers join each other from hosts",
    ui: "use consul.ui",
    ui_config: "use consul.ui",
    log_level: "use consul.logLevel",
};

export function parseInstall(p: Problems, v: unknown, hasLab: boolean): ConsulInstall {
    if (v === undefined || v === null) {
        if (hasLab) {
            return { kind: "toolchain" };
        }
        p.error(
            "consul.install",
            "no install source given",
            'set `{ url: <release zip URL>, sha256: <its SHA-256> }`, or `{ file: <path to a consul binary> }` for air-gapped sites',
        );
        return { kind: "toolchain" };
    }
    const s = section(p, "consul.install", v);
    unknownKeys(p, "consul.install", s, ["url", "sha256", "binarySha256", "file", "source"]);
    if (s.source !== undefined) {
        if (s.source !== "toolchain") {
            p.error("consul.install.source", `unknown source ${JSON.stringify(s.source)}`, 'use "toolchain" (the binary built by `npm run toolchain`), or give url+sha256 or file instead');
        }
        return { kind: "toolchain" };
    }
    if (s.file !== undefined) {
        if (s.url !== undefined) {
            p.error("consul.install", "both `file` and `url` are set", "keep one of them");
        }
        return { kind: "file", file: str(p, "consul.install.file", s.file, "") };
    }
    const url = str(p, "consul.install.url", s.url, "");
    if (url === "" || !/^https?:\/\/\S+$/.test(url)) {
        p.error("consul.install.url", `expected an http(s) URL, got ${JSON.stringify(s.url)}`, "set the release zip's URL, e.g. https://releases.example/consul_1.14.11_linux_amd64.zip");
    }
    const sha = typeof s.sha256 === "string" ? s.sha256.toLowerCase() : "";
    if (!SHA256_RE.test(sha)) {
        p.error(
            "consul.install.sha256",
            s.sha256 === undefined ? "a URL install has no checksum" : `not a SHA-256 (64 hex digits): ${JSON.stringify(s.sha256)}`,
            "set it to the SHA-256 of the file at consul.install.url (from the release's SHA256SUMS)",
        );
    }
    if (s.binarySha256 === undefined) {
        return { kind: "url", url, sha256: sha };
    }
    const binarySha256 = typeof s.binarySha256 === "string" ? s.binarySha256.toLowerCase() : "";
    if (!SHA256_RE.test(binarySha256)) {
        p.error(
            "consul.install.binarySha256",
            `not a SHA-256 (64 hex digits): ${JSON.stringify(s.binarySha256)}`,
            "set it to the SHA-256 of the consul executable itself (`sha256sum consul` after unzipping), or remove it to have the stack read it from the download",
        );
    }
    return { kind: "url", url, sha256: sha, binarySha256 };
}

/** The levels Consul's agent accepts for log_level. */
export const CONSUL_LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

function logLevel(p: Problems, v: unknown): string {
    const level = str(p, "consul.logLevel", v, "INFO");
    if (!CONSUL_LOG_LEVELS.includes(level.toUpperCase())) {
        p.error("consul.logLevel", `"${level}" is not a Consul log level`, `use one of ${CONSUL_LOG_LEVELS.join(", ")}`);
    }
    return level.toUpperCase();
}

export function parseConsul(p: Problems, raw: unknown, hasLab: boolean): ConsulSettings {
    const c = section(p, "consul", raw);
    unknownKeys(p, "consul", c, ["version", "install", "bootstrapMode", "ui", "logLevel", "options", "acl", "tls", "dns", "dnsForwarding", "httpOnLoopback"]);
    const version = str(p, "consul.version", c.version, "1.14.11");
    if (!VERSION_RE.test(version)) {
        p.error("consul.version", `"${version}" is not a pinned release version`, 'pin an exact version such as "1.14.11"');
    }
    const bootstrapMode = str(p, "consul.bootstrapMode", c.bootstrapMode, "tutorial");
    if (bootstrapMode !== "tutorial" && bootstrapMode !== "expect") {
        p.error("consul.bootstrapMode", `unknown mode "${bootstrapMode}"`, 'use "tutorial" (one host has bootstrap: true) or "expect" (bootstrap_expect = number of servers)');
    }
    const options = c.options === undefined ? {} : section(p, "consul.options", c.options);
    for (const [owned, instead] of Object.entries(CONSUL_OWNED_OPTIONS)) {
        if (owned in options) {
            p.error(`consul.options.${owned}`, "is set by the stack itself", `remove it; ${instead}`);
        }
    }
    const consul: ConsulSettings = {
        version,
        install: parseInstall(p, c.install, hasLab),
        bootstrapMode: bootstrapMode === "expect" ? "expect" : "tutorial",
        ui: bool(p, "consul.ui", c.ui, true),
        logLevel: logLevel(p, c.logLevel),
        options,
        acl: bool(p, "consul.acl", c.acl, true),
        tls: bool(p, "consul.tls", c.tls, true),
        dns: bool(p, "consul.dns", c.dns, true),
        dnsForwarding: bool(p, "consul.dnsForwarding", c.dnsForwarding, false),
    };
    // Plain HTTP on loopback only: HTTPS on 8501 stays the network API, which the stack's own
    // snapshots and checks then use; without TLS they need plain HTTP on the network.
    if (bool(p, "consul.httpOnLoopback", c.httpOnLoopback, false)) {
        if (!consul.tls) {
            p.error("consul.httpOnLoopback", "needs consul.tls: without TLS the stack's snapshots and checks reach each agent's plain HTTP API over the network", "remove consul.httpOnLoopback, or keep consul.tls on");
        }
        consul.options = { ...consul.options, addresses: { http: "127.0.0.1" } };
    }
    if (consul.dnsForwarding && !consul.dns) {
        p.error("consul.dnsForwarding", "forwards to Consul's DNS, which consul.dns: false turns off", "set consul.dns: true, or remove consul.dnsForwarding");
    }
    return consul;
}

/** The federation section, when the config has one: needs Consul TLS and ACLs. */
export function parseFederation(p: Problems, raw: unknown, consul: ConsulSettings): FederationSettings | undefined {
    const f = raw === undefined || raw === null ? undefined : section(p, "federation", raw);
    let federation: FederationSettings | undefined;
    if (f) {
        unknownKeys(p, "federation", f, ["primaryStack"]);
        const primaryStack = str(p, "federation.primaryStack", f.primaryStack, "");
        if (!/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/.test(primaryStack)) {
            p.error("federation.primaryStack", primaryStack === "" ? "no primary stack" : `"${primaryStack}" is not a stack name`, 'name the primary datacenter\'s stack, e.g. "dc1" or "org/consul-swarm/dc1"');
        }
        // The datacenters trust each other through the primary's CA, and share its ACLs by replication.
        if (!consul.tls) {
            p.error("consul.tls", "a federated datacenter needs TLS: its servers prove themselves to the primary's with certificates from the primary's CA", "remove consul.tls: false");
        }
        if (!consul.acl) {
            p.error("consul.acl", "a federated datacenter replicates the primary's ACLs", "remove consul.acl: false");
        }
        federation = { primaryStack };
    }
    return federation;
}

/** The servers in the order their restarts roll: the bootstrap server (usually the first leader) last. */
export function rollingOrder<H extends { roles: Role[]; bootstrap?: boolean }>(hosts: H[]): H[] {
    const servers = hosts.filter((h) => h.roles.includes("consul-server"));
    return [...servers.filter((h) => !h.bootstrap), ...servers.filter((h) => h.bootstrap)];
}

/**
 * The concrete install source: "toolchain" becomes the binary built by `npm run toolchain`, whose
 * directory the project's pulumi wrapper exports as CONSUL_SWARM_TOOLBIN.
 */
export function resolveInstall(
    install: ConsulInstall,
    env: NodeJS.ProcessEnv,
    exists: (file: string) => boolean,
    version: string,
): ResolvedInstall {
    if (install.kind === "url") {
        return install;
    }
    if (install.kind === "toolchain" && !env.CONSUL_SWARM_TOOLBIN) {
        throw new ConfigError([
            'consul.install: the source is the project\'s toolchain, but CONSUL_SWARM_TOOLBIN is not set; run the stack through `npm run pulumi -- ...` (or `npm run dev`), which builds the toolchain and sets it',
        ]);
    }
    if (install.kind === "toolchain") {
        // The toolchain keeps every Consul it builds under its version: consul-1.14.11, ...
        const file = `${env.CONSUL_SWARM_TOOLBIN}/consul-${version}`;
        if (!exists(file)) {
            throw new ConfigError([
                `consul.version: the toolchain has no Consul ${version} (${file} does not exist); use a version it builds (toolchain/versions.json: consul, consulAlso), add this one there, or install from consul.install.url/file`,
            ]);
        }
        return { kind: "file", file };
    }
    if (!exists(install.file)) {
        throw new ConfigError([`consul.install.file: ${install.file} does not exist; build it with \`npm run toolchain\` or point consul.install.file at a consul binary`]);
    }
    return { kind: "file", file: install.file };
}
