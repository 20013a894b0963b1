// The stack's configuration: the whole config checked at once. Each part's settings, their
// defaults and their checks live beside the part (components/<part>/settings.ts); this file puts
// them together and checks what spans parts (roles, bootstrapping, the swarm's Consul).
//
// Everything here is pure (no Pulumi resources, no I/O beyond what the caller passes in), so the
// whole inventory is checked before a single resource is registered and a bad config can never
// touch a host. Every problem is collected and reported at once, each naming the field and the fix.
import { Problems, str } from "./shared/fields";
import { ConsulSettings, FederationSettings, parseConsul, parseFederation } from "./consul/settings";
import { DockerSettings, parseDocker } from "./docker/settings";
import { DEFAULT_SSH_WAIT_SECONDS, HostSpec, parseHosts, parseSsh, SshSettings } from "./host/settings";
import { LabSettings, parseLab } from "../lab/settings";
import { parseSwarm, SwarmSettings } from "./swarm/settings";
import { CertificateSettings, parseCertificates } from "./tls/settings";

// What other modules have always imported from here.
export { ConfigError } from "./shared/fields";
export { BootstrapMode, CONSUL_LOG_LEVELS, ConsulInstall, ConsulSettings, FederationSettings, ResolvedInstall, resolveInstall, rollingOrder } from "./consul/settings";
export { DockerSettings } from "./docker/settings";
export { DEFAULT_SSH_WAIT_SECONDS, HostSpec, isIpOrHostname, Role, ROLES, SshSettings } from "./host/settings";
export { cidrContains, cidrGateway, LabSettings, parseCidr } from "../lab/settings";
export { managerRestartOrder, SwarmSettings } from "./swarm/settings";

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

/** Reads, defaults and checks the whole config. Never throws: the caller decides what to do with errors. */
export function validateConfig(raw: RawConfig): ValidationResult {
    const p = new Problems();

    const datacenter = str(p, "datacenter", raw.datacenter, "dc1");
    if (!/^[a-z0-9_-]+$/.test(datacenter)) {
        p.error("datacenter", `"${datacenter}" has characters Consul does not allow`, "use lower-case letters, digits, - and _");
    }

    const lab = parseLab(p, raw.lab);
    const consul = parseConsul(p, raw.consul, lab !== undefined);
    const docker = parseDocker(p, raw.docker);
    parseSwarm(p, raw.swarm);
    const ssh = parseSsh(p, "ssh", raw.ssh, { user: "root", port: 22, waitSeconds: DEFAULT_SSH_WAIT_SECONDS });
    if (!raw.hasPrivateKey && !lab) {
        p.error("sshPrivateKey", "no SSH private key is set", "run `pulumi config set --secret sshPrivateKey < KEYFILE` (the key that logs in on every host)");
    }
    const hosts = parseHosts(p, raw.hosts, ssh, lab);

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

    const federation = parseFederation(p, raw.federation, consul);
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

