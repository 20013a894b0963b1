// The rules that keep a consul-swarm stack's Consul cluster and Docker swarm healthy.
//
// Each rule is a small factory (name, full-sentence description, enforcement level, config schema)
// that reads the facts the stack's components register (./facts.ts), never the text of the shell
// scripts they run. Rules that span resources are stack validations: they see every resource's
// outputs, which for the components are the same facts they register as inputs. Every value is read
// through ./read.ts, so a value that is unknown during preview means "judge it at `pulumi up`", not
// an aborted policy.
import {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { TYPES } from "./facts";
import { groupBy, isUnknown, list, ofType, propsOf, stackOfUrn, str, strings } from "./read";

export type Policy = ResourceValidationPolicy | StackValidationPolicy;

// ---- dev stacks -------------------------------------------------------------------------------

/** Stack names that count as dev stacks unless a policy's config says otherwise. */
export const DEFAULT_DEV_STACKS = ["dev"];

export interface DevStackConfig {
    devStacks?: string[];
}

const devStacksSchema = {
    devStacks: {
        type: "array" as const,
        items: { type: "string" as const },
        default: DEFAULT_DEV_STACKS,
        description:
            "Names of stacks that are throwaway dev stacks. A stack that contains the lab's LabHosts " +
            "component is a dev stack whatever its name.",
    },
};

/**
 * Why the stack is a dev stack, or undefined when it is not. A stack is a dev stack when it runs on
 * lab hosts (a consul-swarm:lab:LabHosts resource: containers on the machine running Pulumi) or when
 * its name is one of `devStacks` (from the policy's config, default ["dev"]).
 */
export function devStackReason(resources: PolicyResource[], devStacks: string[] = DEFAULT_DEV_STACKS): string | undefined {
    const lab = resources.find((r) => r.type === TYPES.labHosts);
    if (lab) {
        return `it runs on lab hosts (${lab.name})`;
    }
    const stack = resources.map((r) => stackOfUrn(r.urn)).find((s) => s !== undefined);
    if (stack !== undefined && devStacks.includes(stack)) {
        return `stack "${stack}" is listed in devStacks`;
    }
    return undefined;
}

function devStacksOf(args: StackValidationArgs): string[] {
    const c = args.getConfig<DevStackConfig>();
    return Array.isArray(c.devStacks) ? c.devStacks : DEFAULT_DEV_STACKS;
}

// ---- Consul agents ----------------------------------------------------------------------------

interface Agent {
    r: PolicyResource;
    /** The node name, or the resource name while the node name is unknown. */
    label: string;
    datacenter: string;
    p: Record<string, unknown>;
}

/** The Consul agents, sorted by node name (the engine hands resources over in no fixed order). */
function consulAgents(resources: PolicyResource[], ...types: string[]): Agent[] {
    return ofType(resources, ...(types.length ? types : [TYPES.consulServer, TYPES.consulClient]))
        .map((r) => {
            const p = propsOf(r);
            return { r, p, label: str(p.nodeName) ?? r.name, datacenter: str(p.datacenter) ?? "(unknown datacenter)" };
        })
        .sort((a, b) => a.label.localeCompare(b.label) || a.r.name.localeCompare(b.r.name));
}

function quorumOf(n: number): { quorum: number; tolerates: number } {
    const quorum = Math.floor(n / 2) + 1;
    return { quorum, tolerates: n - quorum };
}

/** Exactly one server bootstraps (tutorial mode), or every server expects the same, right count. */
export function consulBootstrap(name = "consul-bootstrap", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return {
        name,
        description:
            "Each Consul datacenter must bootstrap exactly one way: either exactly one server starts with " +
            "bootstrap (tutorial mode) and none sets bootstrap_expect, or no server bootstraps and every " +
            "server sets bootstrap_expect to the number of servers in the datacenter.",
        enforcementLevel,
        validateStack: (args, report) => {
            const servers = consulAgents(args.resources, TYPES.consulServer);
            if (servers.length === 0) {
                args.notApplicable("the stack has no Consul servers");
            }
            for (const [dc, group] of groupBy(servers, (s) => s.datacenter)) {
                if (group.some((s) => isUnknown(s.p.bootstrap) || isUnknown(s.p.bootstrapExpect))) {
                    continue; // judged at `pulumi up`, once known
                }
                const boot = group.filter((s) => s.p.bootstrap === true);
                const expect = group.filter((s) => typeof s.p.bootstrapExpect === "number");
                const names = (xs: Agent[]) => list(xs.map((s) => s.label));
                const n = group.length;
                if (boot.length > 0 && expect.length > 0) {
                    report(
                        `Datacenter ${dc} mixes both modes: ${names(boot)} bootstrap(s) while ${names(expect)} set(s) bootstrap_expect. ` +
                            "Use one mode: consul.bootstrapMode tutorial (exactly one host with bootstrap: true) or expect (no host with bootstrap: true).",
                        boot[0].r.urn,
                    );
                } else if (boot.length > 1) {
                    report(
                        `Datacenter ${dc} has ${boot.length} Consul servers that bootstrap (${names(boot)}): each elects itself leader and the cluster splits. ` +
                            "Keep bootstrap: true on exactly one consul-server host, or switch to consul.bootstrapMode: expect.",
                        boot[1].r.urn,
                    );
                } else if (boot.length === 0 && expect.length === 0) {
                    report(
                        `No Consul server in datacenter ${dc} bootstraps and none sets bootstrap_expect, so the servers never elect a leader. ` +
                            "Mark exactly one consul-server host with bootstrap: true (tutorial mode), or set consul.bootstrapMode: expect.",
                        group[0].r.urn,
                    );
                } else if (boot.length === 0) {
                    const missing = group.filter((s) => typeof s.p.bootstrapExpect !== "number");
                    const wrong = expect.filter((s) => s.p.bootstrapExpect !== n);
                    if (missing.length > 0) {
                        report(
                            `In datacenter ${dc}, ${names(expect)} set(s) bootstrap_expect but ${names(missing)} do(es) not. ` +
                                `Set bootstrap_expect = ${n} (the number of servers) on every server, i.e. consul.bootstrapMode: expect for the whole stack.`,
                            missing[0].r.urn,
                        );
                    }
                    if (wrong.length > 0) {
                        report(
                            `In datacenter ${dc}, bootstrap_expect is ${wrong.map((s) => `${String(s.p.bootstrapExpect)} on ${s.label}`).join(", ")}, but the datacenter has ${n} servers. ` +
                                `Set bootstrap_expect = ${n} on every server (the stack derives it from the consul-server hosts: add or remove hosts, not the number).`,
                            wrong[0].r.urn,
                        );
                    }
                }
            }
        },
    };
}

function serverCountPolicy(dev: boolean, name: string, enforcementLevel: EnforcementLevel): StackValidationPolicy {
    return {
        name,
        description: dev
            ? "In a dev stack (lab hosts, or a stack named in devStacks) the number of Consul servers in each datacenter should be odd; a single server is fine."
            : "Outside dev stacks each Consul datacenter must have an odd number of servers, at least 3, so that it keeps a quorum when a server fails.",
        enforcementLevel,
        configSchema: { properties: devStacksSchema },
        validateStack: (args, report) => {
            const reason = devStackReason(args.resources, devStacksOf(args));
            if (dev && reason === undefined) {
                args.notApplicable("not a dev stack (the non-dev rule applies)");
            }
            if (!dev && reason !== undefined) {
                args.notApplicable(`a dev stack: ${reason}`);
            }
            const servers = consulAgents(args.resources, TYPES.consulServer);
            for (const [dc, group] of groupBy(servers, (s) => s.datacenter)) {
                const n = group.length;
                if (n % 2 === 1 && (dev || n >= 3)) {
                    continue;
                }
                const { quorum, tolerates } = quorumOf(n);
                report(
                    `Datacenter ${dc} has ${n} Consul server(s) (${list(group.map((s) => s.label))}): quorum is ${quorum}, so it survives ${tolerates} server failure(s)` +
                        (n % 2 === 0 ? `, the same as ${n - 1} server(s) would. ` : ". ") +
                        (dev
                            ? "Use an odd number of consul-server hosts (1 is fine in a dev stack)."
                            : "Give an odd number of hosts, at least 3, the consul-server role (3 or 5 is usual)."),
                    group[0].r.urn,
                );
            }
        },
    };
}

/** An odd number of servers, at least 3, outside dev stacks. */
export function consulServerQuorum(name = "consul-server-quorum", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return serverCountPolicy(false, name, enforcementLevel);
}

/** An odd number of servers in dev stacks (advisory). */
export function consulServerQuorumDev(name = "consul-server-quorum-dev", enforcementLevel: EnforcementLevel = "advisory"): StackValidationPolicy {
    return serverCountPolicy(true, name, enforcementLevel);
}

/** A protection every Consul agent must have outside dev stacks (one boolean fact of the agent). */
function agentProtection(
    fact: "gossipEncryption" | "acl" | "tls",
    name: string,
    enforcementLevel: EnforcementLevel,
    description: string,
    message: (agent: string) => string,
): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel,
        configSchema: { properties: devStacksSchema },
        validateStack: (args, report) => {
            const reason = devStackReason(args.resources, devStacksOf(args));
            if (reason !== undefined) {
                args.notApplicable(`a dev stack: ${reason}`);
            }
            for (const a of consulAgents(args.resources)) {
                const v = (a.p as Record<string, unknown>)[fact];
                if (v === true || isUnknown(v)) {
                    continue;
                }
                report(message(`${a.label} (${a.r.name})`), a.r.urn);
            }
        },
    };
}

/** Gossip encryption on every agent, outside dev stacks. */
export function gossipEncryption(name = "gossip-encryption", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return agentProtection(
        "gossipEncryption",
        name,
        enforcementLevel,
        "Outside dev stacks every Consul agent must encrypt its gossip traffic with a gossip key, so that nobody on the network can read or forge cluster membership.",
        (agent) =>
            `Consul agent ${agent} gossips without encryption. ` +
            "Give every ConsulServer and ConsulClient a gossipKey (the stack passes the RandomBytes gossip-key's base64 output).",
    );
}

/** ACLs with default deny on every agent, outside dev stacks. */
export function consulAcl(name = "consul-acl", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return agentProtection(
        "acl",
        name,
        enforcementLevel,
        "Outside dev stacks every Consul agent must enforce ACLs with default deny, so that whoever reaches the HTTP API cannot read or change the catalog and KV (the swarm's join tokens live there).",
        (agent) => `Consul agent ${agent} runs without ACLs. Remove consul.acl: false from the stack config (the stack then makes the management token itself).`,
    );
}

/** TLS for RPC and HTTPS on every agent, outside dev stacks. */
export function consulTls(name = "consul-tls", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return agentProtection(
        "tls",
        name,
        enforcementLevel,
        "Outside dev stacks every Consul agent must use TLS from the stack's CA for RPC (verified both ways) and offer HTTPS, so that only agents holding a certificate from that CA can talk to the servers.",
        (agent) => `Consul agent ${agent} runs without TLS. Remove consul.tls: false from the stack config (the stack then makes the CA and the certificates itself).`,
    );
}

// ---- per-resource rules -----------------------------------------------------------------------

const PINNED_VERSION = /^\d+\.\d+\.\d+$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;

/** Consul's version pinned; a URL install carries the download's SHA-256. */
export function consulVersionPinned(name = "consul-version-pinned", enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name,
        description:
            "Every Consul agent must install an exact release (x.y.z), and an agent installed from a URL must carry " +
            "the SHA-256 of that download and name that release in the URL. Docker is not installed by this stack " +
            "(it uses the host's packaged Docker, pinned by the OS package manager), so only Consul is checked.",
        enforcementLevel,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            if (args.type !== TYPES.consulServer && args.type !== TYPES.consulClient) {
                return;
            }
            const p = propsOf(args);
            const node = str(p.nodeName) ?? args.name;
            const version = p.version;
            if (!isUnknown(version) && (typeof version !== "string" || !PINNED_VERSION.test(version))) {
                report(
                    `Consul on ${node} is not pinned to a release: version is ${JSON.stringify(version ?? null)}. ` +
                        'Set consul.version to an exact release such as "1.14.11".',
                );
            }
            const install = p.install;
            if (isUnknown(install) || install === null || typeof install !== "object") {
                return;
            }
            const inst = install as Record<string, unknown>;
            if (inst.kind !== "url") {
                return; // a copied file: the stack hashes the file itself and the host checks it
            }
            const sha = inst.sha256;
            if (!isUnknown(sha) && (typeof sha !== "string" || !SHA256.test(sha))) {
                report(
                    `Consul on ${node} is downloaded from ${String(inst.url)} without a SHA-256 (got ${JSON.stringify(sha ?? null)}). ` +
                        "Set consul.install.sha256 to the download's SHA-256 (64 hex digits, from the release's SHA256SUMS).",
                );
            }
            const url = inst.url;
            if (typeof url === "string" && typeof version === "string" && PINNED_VERSION.test(version) && !url.includes(version)) {
                report(
                    `Consul on ${node} is pinned to ${version} but downloaded from ${url}, which names another release. ` +
                        `Point consul.install.url at the ${version} release (and its SHA-256), or change consul.version.`,
                );
            }
        },
    };
}

function isLoopback(address: string): boolean {
    return /^127\.\d+\.\d+\.\d+$/.test(address) || address === "::1" || address === "localhost";
}

/** Docker's TCP API only on loopback unless it is protected by TLS. */
export function dockerApiTls(name = "docker-api-tls", enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
    return {
        name,
        description:
            "A Docker daemon's TCP API must not listen on a non-loopback address without TLS: whoever reaches that port " +
            "controls the host as root. Networks you trust (the tutorial's, the lab's) can make this rule advisory in the pack's config.",
        enforcementLevel,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            if (args.type !== TYPES.dockerDaemon) {
                return;
            }
            const p = propsOf(args);
            if (isUnknown(p.bindAddress) || isUnknown(p.tls) || isUnknown(p.tcpPort)) {
                return; // judged at `pulumi up`, once known
            }
            const bind = str(p.bindAddress) ?? "0.0.0.0";
            if (p.tls === true || isLoopback(bind)) {
                return;
            }
            report(
                `Docker on ${str(p.host) ?? args.name} exposes its API on tcp://${bind}:${String(p.tcpPort)} without TLS. ` +
                    "Set docker.bindAddress to 127.0.0.1 (or enable TLS for the API); on a trusted tutorial or lab network, " +
                    "run the preview with --policy-pack-config policy/config/tutorial.json (or lab.json), which makes this rule advisory.",
            );
        },
    };
}

// ---- stack-wide structure ---------------------------------------------------------------------

/** Node names and addresses unique. */
export function uniqueNodes(name = "unique-nodes", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return {
        name,
        description:
            "Every host must have its own name and address, and every Consul agent its own node name and address in its datacenter: Consul refuses a second node with a name it already knows, and two agents cannot share an address.",
        enforcementLevel,
        validateStack: (args, report) => {
            const dupes = <T>(items: T[], key: (t: T) => string | undefined): [string, T[]][] =>
                [...groupBy(items.filter((t) => key(t) !== undefined), (t) => key(t)!)].filter(([, g]) => g.length > 1);

            const hosts = ofType(args.resources, TYPES.host)
                .map((r) => ({ r, p: propsOf(r) }))
                .sort((a, b) => a.r.name.localeCompare(b.r.name));
            for (const [address, g] of dupes(hosts, (h) => str(h.p.address))) {
                report(
                    `Address ${address} belongs to ${g.length} hosts (${list(g.map((h) => h.r.name))}). Give every host its own address in consul-swarm:hosts.`,
                    g[1].r.urn,
                );
            }
            for (const [hostName, g] of dupes(hosts, (h) => h.r.name)) {
                report(`${g.length} hosts are named ${hostName}. Give every host its own name in consul-swarm:hosts.`, g[1].r.urn);
            }
            for (const [dc, agents] of groupBy(consulAgents(args.resources), (a) => a.datacenter)) {
                for (const [node, g] of dupes(agents, (a) => str(a.p.nodeName))) {
                    report(
                        `Consul node name ${node} is used by ${g.length} agents in datacenter ${dc} (${list(g.map((a) => a.r.name))}): Consul refuses the second one. ` +
                            "Run one Consul agent per host (a host is either a consul-server or a consul-client) and give every host its own name.",
                        g[1].r.urn,
                    );
                }
                for (const [address, g] of dupes(agents, (a) => str(a.p.address))) {
                    report(
                        `Address ${address} is used by ${g.length} Consul agents in datacenter ${dc} (${list(g.map((a) => a.r.name))}): they would fight over the same ports. ` +
                            "Run one Consul agent per address.",
                        g[1].r.urn,
                    );
                }
            }
        },
    };
}

function swarms(resources: PolicyResource[]) {
    return ofType(resources, TYPES.swarm).map((r) => {
        const p = propsOf(r);
        return { r, managers: p.managers, agents: p.agents };
    });
}

/** A swarm with agents has a manager. */
export function swarmAgentsHaveManager(name = "swarm-agents-have-manager", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return {
        name,
        description: "Every swarm agent must belong to a swarm that has at least one manager, since an agent can only join a swarm through a manager.",
        enforcementLevel,
        validateStack: (args, report) => {
            for (const s of swarms(args.resources)) {
                if (isUnknown(s.managers) || isUnknown(s.agents)) {
                    continue;
                }
                const agents = strings(s.agents);
                if (agents.length > 0 && strings(s.managers).length === 0) {
                    report(
                        `Swarm ${s.r.name} has agent(s) ${list(agents)} but no manager, so they have nothing to join. Give at least one host the swarm-manager role.`,
                        s.r.urn,
                    );
                }
            }
        },
    };
}

/** An odd number of swarm managers. */
export function swarmManagersOdd(name = "swarm-managers-odd", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return {
        name,
        description:
            "Each swarm must have an odd number of managers: the managers keep the swarm's state by Raft majority, and an even number adds a manager without adding a tolerated failure.",
        enforcementLevel,
        validateStack: (args, report) => {
            for (const s of swarms(args.resources)) {
                if (isUnknown(s.managers)) {
                    continue;
                }
                const managers = strings(s.managers);
                if (managers.length > 0 && managers.length % 2 === 0) {
                    const { tolerates } = quorumOf(managers.length);
                    report(
                        `Swarm ${s.r.name} has ${managers.length} managers (${list(managers)}), which tolerate ${tolerates} failure(s), the same as ${managers.length - 1} would. ` +
                            "Give an odd number of hosts (1, 3 or 5) the swarm-manager role.",
                        s.r.urn,
                    );
                }
            }
        },
    };
}

/**
 * With Consul ACLs off, the swarm's join tokens are readable by whoever reaches an agent: said in
 * every stack, dev ones too (advisory; consul-acl is the rule that refuses it outside dev).
 */
export function swarmJoinTokensReadable(name = "swarm-join-tokens-readable", enforcementLevel: EnforcementLevel = "advisory"): StackValidationPolicy {
    return {
        name,
        description:
            "A swarm's nodes find its join tokens in Consul KV: with Consul ACLs off, whoever reaches an agent's HTTP API can read them, and the manager token joins any machine to the swarm as a manager.",
        enforcementLevel,
        validateStack: (args, report) => {
            const open = consulAgents(args.resources).filter((a) => (a.p as Record<string, unknown>).acl === false);
            if (open.length === 0) {
                return;
            }
            for (const s of swarms(args.resources)) {
                report(
                    `Swarm ${s.r.name}'s join tokens, the manager's too, are in Consul KV (consul-swarm/swarm/), and Consul runs without ACLs on ${list(open.map((a) => a.label))}: ` +
                        "whoever reaches port 8500 of an agent can read them and join the swarm as a manager. Remove consul.acl: false from the stack config.",
                    s.r.urn,
                );
            }
        },
    };
}

// ---- certificates -----------------------------------------------------------------------------

/** Each certificate of each CA with a known expiry: "<CA name>: <id>" and when it ends. */
function certificateExpiries(resources: PolicyResource[]): { label: string; urn: string; endsMs: number; ends: string }[] {
    const out: { label: string; urn: string; endsMs: number; ends: string }[] = [];
    for (const r of ofType(resources, TYPES.certificateAuthority)) {
        const expiries = propsOf(r).expiries;
        if (expiries === null || typeof expiries !== "object" || isUnknown(expiries)) {
            continue; // judged at `pulumi up`, once its certificates are made
        }
        for (const [id, ends] of Object.entries(expiries as Record<string, unknown>)) {
            const endsMs = typeof ends === "string" ? Date.parse(ends) : NaN;
            if (!Number.isNaN(endsMs)) {
                out.push({ label: `${r.name}: ${id}`, urn: r.urn, endsMs, ends: String(ends) });
            }
        }
    }
    return out;
}

export interface CertificateExpiryConfig {
    /** Warn this many days before a certificate ends. */
    warnDays?: number;
}

/**
 * A rule over every certificate whose end is known: `problem` says what is wrong with one ending
 * at `endsMs` when the time is `t` (with the rule's config), or nothing.
 */
function expiryRule(
    name: string,
    enforcementLevel: EnforcementLevel,
    description: string,
    problem: (endsMs: number, t: number, cfg: CertificateExpiryConfig) => string | undefined,
    now: () => number,
    configSchema?: StackValidationPolicy["configSchema"],
): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel,
        ...(configSchema ? { configSchema } : {}),
        validateStack: (args, report) => {
            const cfg = args.getConfig<CertificateExpiryConfig>();
            const t = now();
            for (const c of certificateExpiries(args.resources)) {
                const what = problem(c.endsMs, t, cfg);
                if (what !== undefined) {
                    report(`Certificate ${c.label} ${what.replace("{ends}", c.ends)} A CA (ca) is not renewed by the stack: see docs/security.md, Certificates.`, c.urn);
                }
            }
        },
    };
}

/** A certificate that ends within warnDays (30): said in the preview, before it is too late. */
export function certificateExpiring(name = "certificate-expiring", enforcementLevel: EnforcementLevel = "advisory", now: () => number = Date.now): StackValidationPolicy {
    return expiryRule(
        name,
        enforcementLevel,
        "A certificate the stack made that ends within warnDays (30 by default) is named in the preview with its end: the stack renews its agents' and daemons' certificates at an up once they are due (certificates.renewWhenLeft), a CA is not renewed by itself.",
        (endsMs, t, cfg) => {
            const left = endsMs - t;
            if (left <= 0 || left > (cfg.warnDays ?? 30) * 86400_000) {
                return undefined;
            }
            const inWords = left >= 86400_000 ? `${Math.floor(left / 86400_000)} day(s)` : `${Math.max(1, Math.round(left / 60_000))} minute(s)`;
            return `ends at {ends}, in ${inWords}. A leaf is renewed by an up once due (see the stack's certificateRenewal output): run \`pulumi up\` before then.`;
        },
        now,
        { properties: { warnDays: { type: "number", minimum: 0, description: "Days before a certificate ends from which it is named." } } },
    );
}

/** A certificate that has ended: every TLS connection that presents it fails. */
export function certificateExpired(name = "certificate-expired", enforcementLevel: EnforcementLevel = "mandatory", now: () => number = Date.now): StackValidationPolicy {
    return expiryRule(
        name,
        enforcementLevel,
        "No certificate the stack made may have ended: an agent or daemon presenting it can no longer talk TLS to the others, so the preview fails until an up renews it.",
        (endsMs, t) => (endsMs <= t ? "ended at {ends}: whatever presents it fails TLS. An up renews an agent's or daemon's certificate that is due." : undefined),
        now,
    );
}

// ---- secrets ----------------------------------------------------------------------------------

/** Resource types whose listed outputs are secrets (besides any resource's additionalSecretOutputs). */
export const DEFAULT_SECRET_OUTPUTS: Record<string, string[]> = {
    [TYPES.randomBytes]: ["base64", "hex"],
    [TYPES.randomPassword]: ["result", "bcryptHash"],
};

/**
 * The inputs through which a secret may reach a resource, by type ("*": all of them). The stack's
 * components wrap what they pass here in pulumi.secret (the SSH connection; the Consul config with
 * the gossip key on stdin), and the program exports its secret outputs with pulumi.secret; the pack
 * cannot see secret markers (see the rule's description), so these are trusted by name.
 */
export const DEFAULT_SECRET_CHANNELS: Record<string, string[]> = {
    [TYPES.remoteCommand]: ["connection", "stdin"],
    [TYPES.localCommand]: ["stdin"],
    [TYPES.copyToRemote]: ["connection"],
    [TYPES.stack]: ["*"],
    // The outputs of a stack, read back: the engine keeps the secret ones encrypted, as the stack does.
    [TYPES.stackReference]: ["outputs"],
    // Reads its host over SSH like a command: the connection is a secret input and output.
    [TYPES.driftCheck]: ["connection"],
    [TYPES.hostClock]: ["connection"],
    // Its inputs are the stack's config, secret settings included, which the engine keeps
    // encrypted in state as it does for the stack itself.
    [TYPES.dynamicProvider]: ["*"],
};

/** Resources whose every input ends up in a shell: checked by dependency even while values are unknown. */
const SCRIPTED_TYPES: string[] = [TYPES.remoteCommand, TYPES.localCommand, TYPES.copyToRemote];

/** Where an SSH connection keeps its secrets. */
const CONNECTION_SECRETS = ["privateKey", "password", "privateKeyPassword"];

/** Shorter strings are not treated as secrets: they would match by accident. */
const MIN_SECRET_LENGTH = 8;

export interface SecretsConfig {
    secretOutputs?: Record<string, string[]>;
    secretChannels?: Record<string, string[]>;
}

function stringLeaves(v: unknown, path: string, out: { path: string; value: string }[]): void {
    if (typeof v === "string") {
        out.push({ path, value: v });
    } else if (Array.isArray(v)) {
        v.forEach((x, i) => stringLeaves(x, `${path}[${i}]`, out));
    } else if (v !== null && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
            stringLeaves(x, path === "" ? k : `${path}.${k}`, out);
        }
    }
}

/** No secret reaches a resource input as plain text. */
export function noPlaintextSecrets(name = "no-plaintext-secrets", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return {
        name,
        description:
            "No secret (a gossip key, a token, a password, an SSH key) may reach a resource input as plain text: secrets reach a host " +
            "only through a command's stdin or its SSH connection, never through command text, environment variables, triggers or " +
            "component facts. @pulumi/policy 1.21.0 hands policies secret values already unwrapped, with no secret marker, so the rule " +
            "finds secrets by where they come from: a command input computed from a secret-producing resource (random bytes or " +
            "passwords) is a violation even while its value is unknown in preview, and once values are known no input or output " +
            "outside those channels may contain the value of a secret output (random bytes, passwords, any resource's " +
            "additionalSecretOutputs) or of an SSH connection's key.",
        enforcementLevel,
        configSchema: {
            properties: {
                secretOutputs: {
                    type: "object",
                    additionalProperties: { type: "array", items: { type: "string" } },
                    description: "Resource type -> names of its outputs that are secrets (added to, or replacing per type, the defaults).",
                },
                secretChannels: {
                    type: "object",
                    additionalProperties: { type: "array", items: { type: "string" } },
                    description: 'Resource type -> names of its inputs through which a secret may pass ("*" for all).',
                },
            },
        },
        validateStack: (args, report) => {
            const cfg = args.getConfig<SecretsConfig>();
            const secretOutputs = { ...DEFAULT_SECRET_OUTPUTS, ...(cfg.secretOutputs ?? {}) };
            const channels = { ...DEFAULT_SECRET_CHANNELS, ...(cfg.secretChannels ?? {}) };
            const isChannel = (r: PolicyResource, prop: string) =>
                (channels[r.type] ?? []).some((c) => c === "*" || c === prop) || (r.opts.additionalSecretOutputs ?? []).includes(prop);
            const isSource = (r: PolicyResource) => r.type in secretOutputs;

            // 1. By provenance, values unknown or not: a scripted input computed from a secret source.
            for (const r of args.resources) {
                if (!SCRIPTED_TYPES.includes(r.type)) {
                    continue;
                }
                for (const [prop, deps] of Object.entries(r.propertyDependencies ?? {})) {
                    if (isChannel(r, prop)) {
                        continue;
                    }
                    for (const d of deps.filter(isSource)) {
                        report(
                            `${r.name} (${r.type}) computes its input "${prop}" from ${d.name} (${d.type}), whose outputs are secret: ` +
                                `${prop === "environment" ? "an environment variable" : "command text"} shows up in process lists, logs and state. ` +
                                "Pass the value on the command's stdin wrapped in pulumi.secret (as ConsulServer does with the gossip key), " +
                                `or list "${prop}" for ${r.type} in this rule's secretChannels config if the value is not secret.`,
                            r.urn,
                        );
                    }
                }
            }

            // 2. By value, once known: where the value of a known secret appears outside a channel.
            const secrets = new Map<string, string>(); // value -> where it comes from
            const remember = (value: unknown, label: string) => {
                const leaves: { path: string; value: string }[] = [];
                stringLeaves(value, "", leaves);
                for (const l of leaves) {
                    if (l.value.length >= MIN_SECRET_LENGTH && !secrets.has(l.value)) {
                        secrets.set(l.value, label);
                    }
                }
            };
            const props = new Map(args.resources.map((r) => [r.urn, propsOf(r)]));
            for (const r of args.resources) {
                const p = props.get(r.urn)!;
                for (const out of secretOutputs[r.type] ?? []) {
                    remember(p[out], `${r.name}'s secret output ${out}`);
                }
                // A secret object (a command's whole connection, say) also holds parts that are not
                // secret (the host's address): only a secret string is remembered whole.
                for (const out of r.opts.additionalSecretOutputs ?? []) {
                    if (typeof p[out] === "string") {
                        remember(p[out], `${r.name}'s secret output ${out}`);
                    }
                }
                const conn = p.connection;
                if (conn !== null && typeof conn === "object" && !isUnknown(conn)) {
                    for (const k of CONNECTION_SECRETS) {
                        remember((conn as Record<string, unknown>)[k], `the SSH connection's ${k}`);
                    }
                }
            }
            if (secrets.size === 0) {
                return;
            }
            for (const r of args.resources) {
                if (isSource(r)) {
                    continue;
                }
                for (const [prop, value] of Object.entries(props.get(r.urn)!)) {
                    if (isChannel(r, prop)) {
                        continue;
                    }
                    const leaves: { path: string; value: string }[] = [];
                    stringLeaves(value, prop, leaves);
                    const seen = new Set<string>();
                    for (const l of leaves) {
                        for (const [secret, label] of secrets) {
                            if (l.value.includes(secret) && !seen.has(label)) {
                                seen.add(label);
                                report(
                                    `${r.name} (${r.type}) carries ${label} in plain text in "${l.path}". ` +
                                        "Pass secrets to hosts only on stdin wrapped in pulumi.secret or through the SSH connection, " +
                                        "keep them out of component facts, and list a command output that prints one in additionalSecretOutputs.",
                                    r.urn,
                                );
                            }
                        }
                    }
                }
            }
        },
    };
}

// ---- federation --------------------------------------------------------------------------------

const minorOf = (v: unknown): string | undefined => (typeof v === "string" ? /^(\d+\.\d+)\.\d+$/.exec(v)?.[1] : undefined);

/** A WAN federation: a primary named, one Consul minor version on both sides, TLS everywhere. */
export function consulFederation(name = "consul-federation", enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
    return {
        name,
        description:
            "A datacenter that joins another over the WAN must name its primary datacenter (where ACLs are authoritative) " +
            "and it must not be itself; both datacenters and every agent of the stack must run the same Consul minor version " +
            "(servers of different minors forward requests between datacenters across incompatible RPCs); and RPC must be TLS on " +
            "every agent, dev stacks included, since the WAN carries it between networks.",
        enforcementLevel,
        validateStack: (args, report) => {
            const agents = ofType(args.resources, TYPES.consulServer, TYPES.consulClient).map((a) => ({ a, p: propsOf(a) }));
            for (const f of ofType(args.resources, TYPES.wanFederation)) {
                const p = propsOf(f);
                const dc = str(p.datacenter) ?? f.name;
                const primary = p.primaryDatacenter;
                if (!isUnknown(primary) && (typeof primary !== "string" || primary === "")) {
                    report(`Datacenter ${dc} joins a federation without a primary datacenter. Set federation.primaryStack to the primary's stack (its datacenter output names it).`, f.urn);
                } else if (primary === dc) {
                    report(`Datacenter ${dc} names itself as the primary it joins. Give this stack its own consul-swarm:datacenter (e.g. "dc2").`, f.urn);
                }
                const primaryVersion = p.primaryVersion;
                const versions = new Map<string, string>();
                if (!isUnknown(primaryVersion)) {
                    versions.set(`the primary ${str(primary) ?? "datacenter"}`, String(primaryVersion));
                }
                if (!isUnknown(p.version)) {
                    versions.set(`datacenter ${dc}`, String(p.version));
                }
                for (const { a, p: ap } of agents) {
                    if (!isUnknown(ap.version)) {
                        versions.set(`agent ${str(ap.nodeName) ?? a.name}`, String(ap.version));
                    }
                }
                const minors = new Set([...versions.values()].map((v) => minorOf(v) ?? v));
                if (minors.size > 1) {
                    report(
                        `Datacenter ${dc}'s federation runs more than one Consul minor version: ${[...versions].map(([who, v]) => `${who} ${v}`).join(", ")}. ` +
                            "Set consul.version to the primary's minor release (upgrade one datacenter at a time, the primary's stack first).",
                        f.urn,
                    );
                }
                if (!isUnknown(p.tls) && p.tls !== true) {
                    report(`Datacenter ${dc} joins ${str(primary) ?? "its primary"} over the WAN without TLS. Remove consul.tls: false.`, f.urn);
                }
                const plain = agents.filter(({ p: ap }) => !isUnknown(ap.tls) && ap.tls !== true).map(({ a, p: ap }) => str(ap.nodeName) ?? a.name);
                if (plain.length > 0) {
                    report(`Datacenter ${dc} is federated, and agent(s) ${list(plain)} run without TLS. Remove consul.tls: false.`, f.urn);
                }
            }
        },
    };
}

/** The pack's rules, in the order they are reported. */
export function allPolicies(): Policy[] {
    return [
        consulBootstrap(),
        consulServerQuorum(),
        consulServerQuorumDev(),
        dockerApiTls(),
        gossipEncryption(),
        consulAcl(),
        consulTls(),
        consulVersionPinned(),
        uniqueNodes(),
        swarmAgentsHaveManager(),
        swarmManagersOdd(),
        swarmJoinTokensReadable(),
        certificateExpiring(),
        certificateExpired(),
        consulFederation(),
        noPlaintextSecrets(),
    ];
}
