// The hosts' part of the stack's config: each host's name, address, roles and SSH settings.
import * as net from "net";
import { bool, int, isObject, Problems, section, str, unknownKeys } from "../shared/fields";
import { cidrContains, LabSettings } from "../../lab/settings";

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

const HOSTNAME_RE = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const NODE_NAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

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

export function parseSsh(p: Problems, field: string, v: unknown, def: SshSettings): SshSettings {
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

/** Each host of the config, checked alone and against the others (names and addresses unique). */
export function parseHosts(p: Problems, raw: unknown, ssh: SshSettings, lab: LabSettings | undefined): HostSpec[] {
    const hosts: HostSpec[] = [];
    if (!Array.isArray(raw) || raw.length === 0) {
        p.error("hosts", "no hosts given", "add at least one `{ name, address, roles }` entry under consul-swarm:hosts");
    } else {
        raw.forEach((h, i) => {
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
    return hosts;
}
