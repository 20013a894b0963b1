// The stack's configuration: its types, its defaults and its validation.
//
// Everything here is pure (no Pulumi resources, no I/O beyond what the caller passes in), so the
// whole inventory is checked before a single resource is registered and a bad config can never
// touch a host. Every problem is collected and reported at once, each naming the field and the fix.
import * as pulumi from "@pulumi/pulumi";
import * as net from "net";
import { bool, int, isObject, Problems, section, str, unknownKeys } from "./shared/fields";
import { CertificateSettings, parseCertificates } from "./tls/settings";

export const ROLES = ["consul-server", "consul-client", "swarm-manager", "swarm-agent"] as const;
export type Role = (typeof ROLES)[number];

export interface SshSettings {
    user: string;
    port: number;
    /** How long a host may take to answer SSH (a machine still booting) before its steps fail. */
    waitSeconds: number;
}

/** Long enough for a VM or lab host to boot; short enough that a dead host fails the `up` quickly. */
export const DEFAULT_SSH_WAIT_SECONDS = 120;

export interface HostSpec {
    name: string;
    address: string;
    roles: Role[];
    /** Tutorial mode: the one server started with `-bootstrap`. */
    bootstrap: boolean;
    ssh: SshSettings;
    /** This host's Docker API address, over docker.bindAddress (one interface of a host with several). */
    dockerBindAddress?: string;
}

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

export interface ConsulSettings {
    version: string;
    install: ConsulInstall;
    bootstrapMode: BootstrapMode;
    ui: boolean;
    logLevel: string;
    /** Extra agent options merged into every server's config file (JSON keys of consul's config). */
    options: Record<string, unknown>;
    /** ACLs with default deny; the management token is made by the stack and kept a secret. */
    acl: boolean;
    /** TLS for RPC (verify_incoming/outgoing, server hostnames) and HTTPS on 8501, from the stack's CA. */
    tls: boolean;
    /**
     * Consul's DNS interface on 8600 of every agent. With ACLs, the anonymous token may then read
     * node and service names (what DNS answers need; Consul 1.14 has no DNS token of its own).
     */
    dns: boolean;
    /** Forward the `consul` domain from each host's resolver (systemd-resolved or dnsmasq) to its agent. */
    dnsForwarding: boolean;
}

export interface DockerSettings {
    /** The TCP port the Docker API listens on next to the unix socket. */
    tcpPort: number;
    /** The address the TCP API binds to. */
    bindAddress: string;
    tls: boolean;
    /** How many swarm workers' dockerd may restart at once for a Docker change (managers: one). */
    workerRestartsAtOnce: number;
}

export interface SwarmSettings {
    /** "mode": Docker's built-in swarm mode. */
    flavor: "mode";
}

export interface LabSettings {
    subnet: string;
    networkName: string;
    /** Other lab networks' subnets this one routes to, without NAT (a second datacenter's lab). */
    routeTo: string[];
}

/** A secondary datacenter: joined over WAN to the one another stack runs. */
export interface FederationSettings {
    /** The primary datacenter's stack, as a StackReference names it ("dc1" or "org/project/dc1"). */
    primaryStack: string;
}

export interface StackSettings {
    datacenter: string;
    consul: ConsulSettings;
    docker: DockerSettings;
    swarm: SwarmSettings;
    hosts: HostSpec[];
    ssh: SshSettings;
    /** Present only in the dev stack: the stack creates its own hosts on this machine. */
    lab?: LabSettings;
    federation?: FederationSettings;
    certificates: CertificateSettings;
}

/** What the caller read from Pulumi config, untyped (config is user input). */
export interface RawConfig {
    datacenter?: unknown;
    consul?: unknown;
    docker?: unknown;
    swarm?: unknown;
    hosts?: unknown;
    ssh?: unknown;
    lab?: unknown;
    federation?: unknown;
    certificates?: unknown;
    /** Whether `sshPrivateKey` is set (its value is a secret and never reaches this module). */
    hasPrivateKey: boolean;
}

export interface ValidationResult {
    settings?: StackSettings;
    errors: string[];
    warnings: string[];
}

/**
 * Every problem of a stack's config at once. A RunError, so Pulumi prints the message alone (no
 * program stack trace) and stops before any resource is registered.
 */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `consul-swarm: the stack config has ${problems.length} problem(s); nothing was changed on any host:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

const HOSTNAME_RE = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const NODE_NAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
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

export function isIpOrHostname(address: string): boolean {
    if (net.isIP(address) !== 0) {
        return true;
    }
    // A dotted-quad that is not a valid IP (999.1.1.1) is a typo, not a hostname.
    if (/^[\d.]+$/.test(address)) {
        return false;
    }
    return HOSTNAME_RE.test(address);
}

function ipv4ToInt(ip: string): number {
    return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Parses "a.b.c.d/n" (IPv4 only: the lab network is IPv4). */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
    if (!m || net.isIPv4(m[1]) === false) {
        return undefined;
    }
    const prefix = Number(m[2]);
    if (prefix < 8 || prefix > 30) {
        return undefined;
    }
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return { base: (ipv4ToInt(m[1]) & mask) >>> 0, prefix };
}

export function cidrContains(cidr: string, ip: string): boolean {
    const c = parseCidr(cidr);
    if (!c || !net.isIPv4(ip)) {
        return false;
    }
    const mask = (0xffffffff << (32 - c.prefix)) >>> 0;
    return ((ipv4ToInt(ip) & mask) >>> 0) === c.base;
}

/** The gateway Docker gives a network: the first address of the subnet. */
export function cidrGateway(cidr: string): string {
    const c = parseCidr(cidr);
    if (!c) {
        throw new Error(`not an IPv4 CIDR: ${cidr}`);
    }
    const g = c.base + 1;
    return [24, 16, 8, 0].map((s) => (g >>> s) & 255).join(".");
}

function parseSsh(p: Problems, field: string, v: unknown, def: SshSettings): SshSettings {
    const s = section(p, field, v);
    if ("privateKey" in s) {
        p.error(`${field}.privateKey`, "the SSH key is read from its own secret setting", "move it: `pulumi config set --secret sshPrivateKey < KEYFILE`");
    }
    unknownKeys(p, field, s, ["user", "port", "privateKey", "waitSeconds"]);
    return {
        user: str(p, `${field}.user`, s.user, def.user),
        port: int(p, `${field}.port`, s.port, def.port, 1, 65535),
        waitSeconds: int(p, `${field}.waitSeconds`, s.waitSeconds, def.waitSeconds, 5, 3600),
    };
}

function parseInstall(p: Problems, v: unknown, hasLab: boolean): ConsulInstall {
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

/** Reads, defaults and checks the whole config. Never throws: the caller decides what to do with errors. */
export function validateConfig(raw: RawConfig): ValidationResult {
    const p = new Problems();

    const datacenter = str(p, "datacenter", raw.datacenter, "dc1");
    if (!/^[a-z0-9_-]+$/.test(datacenter)) {
        p.error("datacenter", `"${datacenter}" has characters Consul does not allow`, "use lower-case letters, digits, - and _");
    }

    const labRaw = raw.lab === undefined || raw.lab === null ? undefined : section(p, "lab", raw.lab);
    let lab: LabSettings | undefined;
    if (labRaw) {
        unknownKeys(p, "lab", labRaw, ["subnet", "networkName", "routeTo"]);
        const subnet = str(p, "lab.subnet", labRaw.subnet, "10.213.0.0/24");
        if (!parseCidr(subnet)) {
            p.error("lab.subnet", `"${subnet}" is not an IPv4 CIDR with a /8 to /30 prefix`, 'set e.g. "10.213.0.0/24"');
        }
        const routeTo: string[] = [];
        if (labRaw.routeTo !== undefined && !Array.isArray(labRaw.routeTo)) {
            p.error("lab.routeTo", `expected a list of subnets, got ${JSON.stringify(labRaw.routeTo)}`, 'write e.g. ["10.214.0.0/24"] (the other lab\'s lab.subnet)');
        }
        (Array.isArray(labRaw.routeTo) ? labRaw.routeTo : []).forEach((r, i) => {
            if (typeof r !== "string" || !parseCidr(r)) {
                p.error(`lab.routeTo[${i}]`, `${JSON.stringify(r)} is not an IPv4 CIDR with a /8 to /30 prefix`, "give the other lab's lab.subnet");
            } else if (r === subnet) {
                p.error(`lab.routeTo[${i}]`, `${r} is this lab's own subnet`, "list only other labs' subnets");
            } else {
                routeTo.push(r);
            }
        });
        lab = { subnet, networkName: str(p, "lab.networkName", labRaw.networkName, "consul-swarm-lab"), routeTo };
    }

    const c = section(p, "consul", raw.consul);
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
        install: parseInstall(p, c.install, lab !== undefined),
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

    const d = section(p, "docker", raw.docker);
    unknownKeys(p, "docker", d, ["tcpPort", "bindAddress", "tls", "workerRestartsAtOnce"]);
    const tls = bool(p, "docker.tls", d.tls, true);
    const docker: DockerSettings = {
        // Docker's own convention: 2376 with TLS, 2375 (the tutorial's) without.
        tcpPort: int(p, "docker.tcpPort", d.tcpPort, tls ? 2376 : 2375, 1, 65535),
        bindAddress: str(p, "docker.bindAddress", d.bindAddress, "0.0.0.0"),
        tls,
        // One at a time: each worker back in the swarm before the next goes.
        workerRestartsAtOnce: int(p, "docker.workerRestartsAtOnce", d.workerRestartsAtOnce, 1, 1, 1000),
    };
    if (net.isIP(docker.bindAddress) === 0) {
        p.error("docker.bindAddress", `"${docker.bindAddress}" is not an IP address`, 'use "0.0.0.0" (all interfaces) or one of the host\'s addresses');
    }
    if (!docker.tls && !/^127\./.test(docker.bindAddress)) {
        p.warn(
            "docker.tls",
            `the Docker API listens on plain TCP ${docker.bindAddress}:${docker.tcpPort} without TLS (the tutorial's mode): whoever reaches it is root on the host`,
            "keep it to a trusted network, or remove docker.tls: false to get TLS with client certificates on 2376",
        );
    }

    const s = section(p, "swarm", raw.swarm);
    unknownKeys(p, "swarm", s, ["flavor"]);
    const flavor = str(p, "swarm.flavor", s.flavor, "mode");
    if (flavor !== "mode") {
        p.error("swarm.flavor", `unknown flavor "${flavor}"`, 'use "mode" (Docker\'s built-in swarm mode)');
    }

    const ssh = parseSsh(p, "ssh", raw.ssh, { user: "root", port: 22, waitSeconds: DEFAULT_SSH_WAIT_SECONDS });
    if (!raw.hasPrivateKey && !lab) {
        p.error("sshPrivateKey", "no SSH private key is set", "run `pulumi config set --secret sshPrivateKey < KEYFILE` (the key that logs in on every host)");
    }

    const hosts: HostSpec[] = [];
    if (!Array.isArray(raw.hosts) || raw.hosts.length === 0) {
        p.error("hosts", "no hosts given", "add at least one `{ name, address, roles }` entry under consul-swarm:hosts");
    } else {
        raw.hosts.forEach((h, i) => {
            const field = `hosts[${i}]`;
            if (!isObject(h)) {
                p.error(field, `expected a map, got ${JSON.stringify(h)}`, "write `{ name, address, roles }`");
                return;
            }
            unknownKeys(p, field, h, ["name", "address", "roles", "bootstrap", "ssh", "docker"]);
            const name = str(p, `${field}.name`, h.name, "");
            if (name !== "" && !NODE_NAME_RE.test(name)) {
                p.error(`${field}.name`, `"${name}" is not a valid node name`, "use letters, digits and - (it becomes the Consul node name)");
            }
            const address = str(p, `${field}.address`, h.address, "");
            if (h.address === undefined) {
                p.error(`${field}.address`, "no address", "set the host's IPv4 address");
            } else if (address !== "" && !isIpOrHostname(address)) {
                p.error(`${field}.address`, `"${address}" is neither an IP address nor a hostname`, "set the host's IPv4 address");
            } else if (net.isIPv6(address)) {
                // URLs, bind addresses, the swarm's advertise address and certificates' IP SANs are
                // all built for IPv4 here: refused rather than half working.
                p.error(`${field}.address`, `${address} is an IPv6 address, which the stack does not support yet`, "set the host's IPv4 address");
            } else if (!net.isIPv4(address)) {
                // The address is Consul's bind address and an IP SAN of the host's certificates.
                p.error(
                    `${field}.address`,
                    `"${address}" is a hostname, but the stack binds Consul to this address and certifies it as an IP`,
                    `set the host's IPv4 address (\`getent hosts ${address}\` on this machine shows it)`,
                );
            }
            if (lab && address !== "" && !cidrContains(lab.subnet, address)) {
                p.error(`${field}.address`, `${address} is outside the lab subnet ${lab.subnet}`, "give lab hosts addresses inside lab.subnet");
            }
            const roles: Role[] = [];
            if (!Array.isArray(h.roles) || h.roles.length === 0) {
                p.error(`${field}.roles`, "no roles", `list one or more of ${ROLES.join(", ")}`);
            } else {
                for (const r of h.roles) {
                    if (typeof r === "string" && (ROLES as readonly string[]).includes(r)) {
                        roles.push(r as Role);
                    } else {
                        p.error(`${field}.roles`, `unknown role ${JSON.stringify(r)}`, `use one of ${ROLES.join(", ")}`);
                    }
                }
            }
            if (roles.includes("consul-server") && roles.includes("consul-client")) {
                p.error(`${field}.roles`, "both consul-server and consul-client", "a Consul agent is one or the other: keep one");
            }
            const bootstrap = bool(p, `${field}.bootstrap`, h.bootstrap, false);
            if (bootstrap && !roles.includes("consul-server")) {
                p.error(`${field}.bootstrap`, "only a consul-server can bootstrap", "add the consul-server role or remove bootstrap");
            }
            const hostDocker = section(p, `${field}.docker`, h.docker);
            unknownKeys(p, `${field}.docker`, hostDocker, ["bindAddress"]);
            const dockerBindAddress = hostDocker.bindAddress === undefined ? undefined : str(p, `${field}.docker.bindAddress`, hostDocker.bindAddress, "");
            if (dockerBindAddress !== undefined && net.isIP(dockerBindAddress) === 0) {
                p.error(`${field}.docker.bindAddress`, `"${dockerBindAddress}" is not an IP address`, 'use "0.0.0.0" (all interfaces) or one of the host\'s addresses');
            }
            if (dockerBindAddress !== undefined && !roles.some((r) => r === "swarm-manager" || r === "swarm-agent")) {
                p.error(`${field}.docker`, "a host without a swarm role runs no Docker API of the stack", "remove docker or add swarm-manager or swarm-agent");
            }
            hosts.push({ name, address, roles, bootstrap, ssh: parseSsh(p, `${field}.ssh`, h.ssh, ssh), ...(dockerBindAddress === undefined ? {} : { dockerBindAddress }) });
        });
    }

    const seen = (key: (h: HostSpec) => string, what: string) => {
        const first = new Map<string, number>();
        hosts.forEach((h, i) => {
            const k = key(h);
            if (k === "") {
                return;
            }
            const j = first.get(k);
            if (j !== undefined) {
                p.error(`hosts[${i}].${what}`, `duplicate ${what} "${k}" (also hosts[${j}])`, `give every host its own ${what}`);
            } else {
                first.set(k, i);
            }
        });
    };
    seen((h) => h.name, "name");
    seen((h) => h.address, "address");

    const servers = hosts.filter((h) => h.roles.includes("consul-server"));
    const bootstrappers = servers.filter((h) => h.bootstrap);
    if (hosts.length > 0 && servers.length === 0) {
        p.error("hosts", "no host has the consul-server role", "give at least one host (three for a fault-tolerant cluster) the consul-server role");
    }
    if (consul.bootstrapMode === "tutorial" && servers.length > 0) {
        if (bootstrappers.length === 0) {
            p.error("hosts", "no Consul server has bootstrap: true (tutorial mode)", "mark exactly one consul-server host with bootstrap: true, or set consul.bootstrapMode to expect");
        } else if (bootstrappers.length > 1) {
            p.error(
                "hosts",
                `${bootstrappers.length} Consul servers have bootstrap: true (${bootstrappers.map((h) => h.name).join(", ")})`,
                "keep bootstrap: true on exactly one server: two bootstrapping servers elect two leaders",
            );
        }
    }
    if (consul.bootstrapMode === "expect" && bootstrappers.length > 0) {
        p.error("hosts", `bootstrap: true on ${bootstrappers.map((h) => h.name).join(", ")} while consul.bootstrapMode is expect`, "remove bootstrap: true (every server uses bootstrap_expect) or switch to tutorial mode");
    }
    if (servers.length > 0 && (servers.length < 3 || servers.length % 2 === 0)) {
        const quorum = Math.floor(servers.length / 2) + 1;
        const tolerates = servers.length - quorum;
        p.warn(
            "hosts",
            `${servers.length} Consul server(s): quorum is ${quorum}, so the cluster survives ${tolerates} server failure(s)`,
            "use an odd number, at least 3, outside single-server dev setups",
        );
    }
    const managers = hosts.filter((h) => h.roles.includes("swarm-manager"));
    const agents = hosts.filter((h) => h.roles.includes("swarm-agent"));
    if (agents.length > 0 && managers.length === 0) {
        p.error("hosts", `swarm agent(s) ${agents.map((h) => h.name).join(", ")} but no swarm-manager`, "give one host the swarm-manager role");
    }
    for (const h of [...managers, ...agents]) {
        if (!h.roles.includes("consul-server") && !h.roles.includes("consul-client") && servers.length === 0) {
            p.error(`hosts`, `swarm host ${h.name} has no Consul to discover the swarm through`, "add a consul-server host");
        }
    }

    const f = raw.federation === undefined || raw.federation === null ? undefined : section(p, "federation", raw.federation);
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

    const certificates = parseCertificates(p, raw.certificates);

    if (p.errors.length > 0) {
        return { errors: p.errors, warnings: p.warnings };
    }
    return {
        settings: { datacenter, consul, docker, swarm: { flavor: "mode" }, hosts, ssh, lab, ...(federation ? { federation } : {}), certificates },
        errors: [],
        warnings: p.warnings,
    };
}

/** The servers in the order their restarts roll: the bootstrap server (usually the first leader) last. */
export function rollingOrder<H extends { roles: Role[]; bootstrap?: boolean }>(hosts: H[]): H[] {
    const servers = hosts.filter((h) => h.roles.includes("consul-server"));
    return [...servers.filter((h) => !h.bootstrap), ...servers.filter((h) => h.bootstrap)];
}

/**
 * The turns swarm managers' dockerd restarts take, one at a time: the first manager (where the
 * swarm began) last. Workers take turns from Consul KV instead (a dead worker holds back no one).
 */
export function managerRestartOrder<H extends { roles: Role[] }>(hosts: H[]): H[] {
    const managers = hosts.filter((h) => h.roles.includes("swarm-manager"));
    return [...managers.slice(1), ...managers.slice(0, 1)];
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
