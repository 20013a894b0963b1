// Runs the pack's real policy functions the way the policy server does, without an engine.
//
// Properties go through the same steps as in @pulumi/policy's server (server.js): the engine's
// protobuf Struct, deserializeProperties (which unwraps secrets: a policy never sees a secret
// marker) and the unknown-checking proxy (which throws on values unknown during preview). Each
// violation is collected with its enforcement level, and `notApplicable` is recorded, not thrown
// at the caller. Modelled on pulumi/pulumi-policy-aws's src/tests/util.ts.
import {
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
} from "@pulumi/policy";
import { TYPES } from "../facts";

// Internal modules, on purpose: the point is to deserialize exactly as the server does.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { deserializeProperties } = require("@pulumi/policy/deserialize") as {
    deserializeProperties: (s: unknown, proxySecrets: boolean) => Record<string, unknown>;
};
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: unknown): unknown } };

/** How the engine sends a value that is unknown during preview. */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** How the engine sends a secret value. */
export function secret(value: unknown): unknown {
    return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

export interface Violation {
    policy: string;
    level: EnforcementLevel;
    message: string;
    urn?: string;
}

export interface Outcome {
    violations: Violation[];
    /** Why the policy said it does not apply, if it did. */
    notApplicable?: string;
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

function dropUndefined(v: unknown): unknown {
    if (Array.isArray(v)) {
        return v.map(dropUndefined);
    }
    if (v !== null && typeof v === "object") {
        return Object.fromEntries(
            Object.entries(v)
                .filter(([, x]) => x !== undefined)
                .map(([k, x]) => [k, dropUndefined(x)]),
        );
    }
    return v;
}

/** Properties as a policy receives them from the engine. */
export function asEngineProps(props: Record<string, unknown>): Record<string, any> {
    const struct = Struct.fromJavaScript(dropUndefined(props));
    return unknownCheckingProxy(deserializeProperties(struct, false));
}

const emptyOptions = (): PolicyResourceOptions => ({
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
});

export interface FakeResource {
    type: string;
    name: string;
    props: Record<string, unknown>;
    parent?: string;
    /** Names of the resources each property was computed from. */
    propertyDependencies?: Record<string, string[]>;
    additionalSecretOutputs?: string[];
}

export function urnOf(stack: string, type: string, name: string): string {
    return `urn:pulumi:${stack}::consul-swarm::${type}::${name}`;
}

/** A stack's resources, built up by the tests and handed to the policies. */
export class FakeStack {
    readonly resources: FakeResource[] = [];
    constructor(readonly name = "prod") {
        this.add(TYPES.stack, `consul-swarm-${name}`, {});
    }

    add(type: string, name: string, props: Record<string, unknown>, extra: Partial<FakeResource> = {}): this {
        this.resources.push({ type, name, props, ...extra });
        return this;
    }

    /** The resource with this name (the tests change facts in place). */
    get(name: string): FakeResource {
        const r = this.resources.find((x) => x.name === name);
        if (!r) {
            throw new Error(`no resource ${name}; have ${this.resources.map((x) => x.name).join(", ")}`);
        }
        return r;
    }

    remove(name: string): this {
        this.resources.splice(this.resources.indexOf(this.get(name)), 1);
        return this;
    }

    urn(name: string): string {
        const r = this.get(name);
        return urnOf(this.name, r.type, r.name);
    }

    /** What validateStack receives, as server.js builds it. */
    stackArgs(config: Record<string, unknown> = {}): StackValidationArgs {
        const byName = new Map<string, PolicyResource>();
        const built = this.resources.map((r) => {
            const props = asEngineProps(r.props);
            const type = r.type;
            const res: PolicyResource = {
                type,
                props,
                urn: urnOf(this.name, r.type, r.name),
                name: r.name,
                opts: { ...emptyOptions(), additionalSecretOutputs: r.additionalSecretOutputs ?? [] },
                dependencies: [],
                propertyDependencies: {},
                isType: () => false,
                asType: () => undefined,
            };
            byName.set(r.name, res);
            return { r, res };
        });
        for (const { r, res } of built) {
            res.parent = r.parent ? byName.get(r.parent) : undefined;
            for (const [k, names] of Object.entries(r.propertyDependencies ?? {})) {
                res.propertyDependencies[k] = names.map((n) => byName.get(n)).filter((x): x is PolicyResource => x !== undefined);
            }
            res.dependencies = [...new Set(Object.values(res.propertyDependencies).flat())];
        }
        return {
            resources: built.map((b) => b.res),
            stackTags: new Map(),
            getConfig: <T extends object>() => config as T,
            notApplicable: (reason?: string): never => {
                throw new NotApplicable(reason ?? "");
            },
        };
    }

    /** What validateResource receives for one resource. */
    resourceArgs(name: string, config: Record<string, unknown> = {}): ResourceValidationArgs {
        const r = this.get(name);
        const props = asEngineProps(r.props);
        return {
            type: r.type,
            props,
            urn: urnOf(this.name, r.type, r.name),
            name: r.name,
            opts: { ...emptyOptions(), additionalSecretOutputs: r.additionalSecretOutputs ?? [] },
            stackTags: new Map(),
            isType: () => false,
            asType: () => undefined,
            getConfig: <T extends object>() => config as T,
            notApplicable: (reason?: string): never => {
                throw new NotApplicable(reason ?? "");
            },
        };
    }
}

async function collect(policy: { name: string; enforcementLevel?: EnforcementLevel }, run: (report: (m: string, urn?: string) => void) => unknown): Promise<Outcome> {
    const violations: Violation[] = [];
    const report = (message: string, urn?: string) => violations.push({ policy: policy.name, level: policy.enforcementLevel ?? "advisory", message, urn });
    try {
        await Promise.resolve(run(report));
    } catch (e) {
        if (e instanceof NotApplicable) {
            return { violations, notApplicable: e.reason };
        }
        throw e;
    }
    return { violations };
}

export function runStackPolicy(policy: StackValidationPolicy, stack: FakeStack, config?: Record<string, unknown>): Promise<Outcome> {
    return collect(policy, (report) => policy.validateStack(stack.stackArgs(config), report));
}

/** Runs a resource policy on every resource of the stack, the way the engine calls it once per resource. */
export async function runResourcePolicy(policy: ResourceValidationPolicy, stack: FakeStack, config?: Record<string, unknown>): Promise<Outcome> {
    const violations: Violation[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    for (const r of stack.resources) {
        for (const v of validations) {
            const out = await collect(policy, (report) => v(stack.resourceArgs(r.name, config), (m) => report(m, urnOf(stack.name, r.type, r.name))));
            violations.push(...out.violations);
        }
    }
    return { violations };
}

// ---- the tutorial's stack, as the components register it ----------------------------------------

export interface TutorialOptions {
    stack?: string;
    hosts?: { name: string; address: string; server?: boolean; manager?: boolean; agent?: boolean; bootstrap?: boolean }[];
}

const TUTORIAL_HOSTS = [
    { name: "consulsvr", address: "192.168.116.111", server: true, manager: true, bootstrap: true },
    { name: "consul01", address: "192.168.116.112", server: true, agent: true },
    { name: "consul02", address: "192.168.116.113", server: true, agent: true },
];

export const GOSSIP_KEY = Buffer.alloc(32, 7).toString("base64");
export const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAtutorial-key\n-----END OPENSSH PRIVATE KEY-----\n";

/**
 * The resources (with the outputs stack validation sees) that buildStack registers for the
 * tutorial's three hosts after `pulumi up`: every value known. Pass `preview` for the values a
 * first preview does not know (the gossip key, every command's stdout, the scripts that need the
 * hosts' facts).
 */
export function tutorialStack(opts: TutorialOptions & { preview?: boolean } = {}): FakeStack {
    const s = new FakeStack(opts.stack ?? "example");
    const hosts = opts.hosts ?? TUTORIAL_HOSTS;
    const u = (v: unknown) => (opts.preview ? UNKNOWN_VALUE : v);
    const connection = (host: string) => secret({ host, port: 22, user: "root", privateKey: SSH_KEY, dialErrorLimit: 60, perDialTimeout: 5 });
    const install = { kind: "url", url: "https://releases.example/consul/1.14.11/consul_1.14.11_linux_amd64.zip", sha256: "ab".repeat(32) };

    s.add(TYPES.randomBytes, "gossip-key", { length: 32, base64: u(secret(GOSSIP_KEY)), hex: u(secret("07".repeat(32))) });
    for (const h of hosts) {
        s.add(TYPES.host, h.name, { address: h.address, port: 22, user: "root", facts: u({ osFamily: "debian" }) });
        s.add(TYPES.remoteCommand, `${h.name}-facts`, { connection: connection(h.address), create: "#!/bin/sh\nhost-facts", triggers: [h.address], stdout: u("os_id=debian") }, { parent: h.name });
        if (h.manager || h.agent) {
            s.add(TYPES.dockerDaemon, `${h.name}-docker`, { host: h.name, tcpPort: 2375, bindAddress: "0.0.0.0", tls: false, dockerHost: `tcp://${h.address}:2375` });
            s.add(
                TYPES.remoteCommand,
                `${h.name}-docker-config`,
                { connection: connection(h.address), create: u("docker-daemon-json"), update: u("docker-daemon-json"), delete: u("restore"), stdout: u("") },
                { parent: `${h.name}-docker`, propertyDependencies: { create: [`${h.name}-facts`], update: [`${h.name}-facts`], delete: [`${h.name}-facts`] } },
            );
        }
    }
    const servers = hosts.filter((h) => h.server);
    const clients = hosts.filter((h) => !h.server);
    for (const h of [...servers, ...clients]) {
        const name = `${h.name}-consul`;
        s.add(h.server ? TYPES.consulServer : TYPES.consulClient, name, {
            nodeName: h.name,
            address: h.address,
            datacenter: "dc1",
            server: !!h.server,
            bootstrap: !!h.bootstrap,
            version: "1.14.11",
            install,
            gossipEncryption: true,
            acl: true,
            tls: true,
        });
        s.add(TYPES.remoteCommand, `${name}-install`, { connection: connection(h.address), create: "install consul", update: "install consul", delete: "uninstall", stdout: u("") }, { parent: name });
        s.add(
            TYPES.remoteCommand,
            `${name}-service`,
            {
                connection: connection(h.address),
                create: "#!/bin/sh\nconsul-service BOOTSTRAP='no'",
                update: "#!/bin/sh\nconsul-service BOOTSTRAP='no'",
                delete: "consul-service-remove",
                stdin: u(secret(JSON.stringify({ datacenter: "dc1", encrypt: GOSSIP_KEY }))),
                stdout: u("consul=active"),
            },
            { parent: name, propertyDependencies: { stdin: ["gossip-key"] } },
        );
    }
    s.add(TYPES.consulCluster, "consul", { servers: servers.map((h) => h.name), clients: clients.map((h) => h.name), leader: u("consulsvr") });
    const managers = hosts.filter((h) => h.manager);
    if (managers.length > 0) {
        s.add(TYPES.swarm, "swarm", {
            managers: managers.map((h) => h.name),
            agents: hosts.filter((h) => h.agent && !h.manager).map((h) => h.name),
            nodes: u([]),
        });
    }
    s.get(`consul-swarm-${s.name}`).props = { gossipKey: u(secret(GOSSIP_KEY)), consulHttpAddr: `http://${servers[0]?.address}:8500` };
    return s;
}
