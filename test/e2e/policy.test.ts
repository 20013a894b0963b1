// The policy pack in the real engine: `pulumi preview --policy-pack policy` through the Automation
// API, with the project's own CLI, language host and provider plugins. Preview only: nothing is
// created, and no host is contacted (the addresses are the tutorial's and RFC 5737 documentation
// addresses).
//
// Two programs are previewed:
//   - the stack's own program (index.ts) with the example stack's config (Pulumi.example.yaml), as
//     is or with its hosts changed by setConfig: for the rules a config can break;
//   - test/e2e/fixtures/policy/program, which wires the same components by hand for one named
//     fault: for the rules the program's config validation already enforces (two bootstrapping
//     servers, no gossip key, ...), which the pack enforces again in case a program change slips
//     past that validation.
//
// Needs the toolchain: CONSUL_SWARM_TOOLBIN (set by scripts/env.sh, e.g. through
// scripts/test-e2e.sh), else it runs `bash scripts/toolchain.sh`. Plugins come from PULUMI_HOME
// when it is set (env.sh installs them there), else from a temporary one. Every run has its own
// temporary backend, removed at the end with the stacks' config files.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { EngineEvent, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

const repo = path.resolve(__dirname, "..", "..");
const policyPack = path.join(repo, "policy");
const fixtureProgram = path.join(repo, "test", "e2e", "fixtures", "policy", "program");
const policyConfig = (name: string) => path.join(policyPack, "config", name);
/** The passphrase of the example stack's secrets (scripts/env.sh); every stack here uses it. */
const PASSPHRASE = "consul-swarm-dev-only";
const PREFIX = "e2e-policy-";

interface PolicyEvent {
    policy: string;
    level: string;
    message: string;
    urn?: string;
}

interface Outcome {
    ok: boolean;
    events: PolicyEvent[];
    /** The CLI's output when the preview failed. */
    error?: string;
}

const log = (m: string) => process.stderr.write(`[policy e2e] ${m}\n`);

function toolbin(): string {
    const fromEnv = process.env.CONSUL_SWARM_TOOLBIN;
    if (fromEnv && fs.existsSync(path.join(fromEnv, "pulumi"))) {
        return fromEnv;
    }
    log("CONSUL_SWARM_TOOLBIN is not set: building or reusing the toolchain (scripts/toolchain.sh)");
    return execFileSync("bash", [path.join(repo, "scripts", "toolchain.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

let tmp = "";
let cli: PulumiCommand;
let envVars: Record<string, string> = {};

before(async () => {
    assert.ok(
        fs.existsSync(path.join(policyPack, "node_modules", "@pulumi", "policy")),
        "the policy pack has no node_modules: run `(cd policy && npm ci)` first",
    );
    const bin = toolbin();
    for (const b of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-command", "pulumi-resource-random", "pulumi-resource-docker"]) {
        assert.ok(fs.existsSync(path.join(bin, b)), `the toolchain in ${bin} has no ${b}`);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "consul-swarm-policy-e2e-"));
    fs.mkdirSync(path.join(tmp, "backend"));
    // PulumiCommand wants <root>/bin/pulumi; the CLI finds its language host next to its real path.
    fs.mkdirSync(path.join(tmp, "cli"));
    fs.symlinkSync(bin, path.join(tmp, "cli", "bin"));
    cli = await PulumiCommand.get({ root: path.join(tmp, "cli"), skipVersionCheck: true });

    let home = process.env.PULUMI_HOME ?? "";
    if (home === "") {
        home = path.join(tmp, "pulumi-home");
        const versions = JSON.parse(fs.readFileSync(path.join(repo, "toolchain", "versions.json"), "utf8"));
        for (const name of ["command", "random", "docker"]) {
            execFileSync(path.join(bin, "pulumi"), ["plugin", "install", "resource", name, versions.plugins[name], "--file", path.join(bin, `pulumi-resource-${name}`)], {
                env: { ...process.env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true" },
                stdio: ["ignore", "ignore", "inherit"],
            });
        }
    }
    envVars = {
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        // The lab stack's Consul comes from the toolchain.
        CONSUL_SWARM_TOOLBIN: bin,
    };
    log(`CLI ${cli.version} from ${bin}; backend ${envVars.PULUMI_BACKEND_URL}; PULUMI_HOME ${home}`);
});

const stacks: Stack[] = [];

after(async () => {
    for (const s of stacks) {
        try {
            await s.workspace.removeStack(s.name, { force: true });
        } catch (e) {
            log(`could not remove stack ${s.name}: ${e}`);
        }
    }
    for (const dir of [repo, fixtureProgram]) {
        for (const f of fs.readdirSync(dir).filter((f) => f.startsWith(`Pulumi.${PREFIX}`) && f.endsWith(".yaml"))) {
            fs.rmSync(path.join(dir, f), { force: true });
        }
    }
    if (tmp !== "") {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

/** A stack of the real program, starting from the example stack's config (its secret included). */
async function exampleStack(name: string, hosts?: unknown[], from = "Pulumi.example.yaml"): Promise<Stack> {
    const stackName = PREFIX + name;
    fs.copyFileSync(path.join(repo, from), path.join(repo, `Pulumi.${stackName}.yaml`));
    const ws = await LocalWorkspace.create({ workDir: repo, envVars, pulumiCommand: cli });
    const stack = await Stack.createOrSelect(stackName, ws);
    stacks.push(stack);
    if (hosts) {
        await stack.setConfig("consul-swarm:hosts", { value: JSON.stringify(hosts) });
    }
    // Previews only: the release's executable identity is given, so the program downloads nothing
    // (this machine reaches no release server, and a test sends nothing outside the lab).
    await stack.setConfig("consul-swarm:consul.install.binarySha256", { value: "cd".repeat(32) }, true);
    return stack;
}

/** A stack of the real program on lab hosts (the dev stack's shape), with its own lab subnet. */
async function labStack(name: string, hosts: unknown[]): Promise<Stack> {
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: PREFIX + name, workDir: repo }, { envVars, pulumiCommand: cli });
    stacks.push(stack);
    await stack.setAllConfig({
        "consul-swarm:lab": { value: JSON.stringify({ subnet: "10.215.0.0/24", networkName: "consul-swarm-e2e-policy" }) },
        "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" } }) },
        "consul-swarm:hosts": { value: JSON.stringify(hosts) },
    });
    return stack;
}

/** A stack of the fixture program with one fault. */
async function fixtureStack(fault: string): Promise<Stack> {
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: PREFIX + fault, workDir: fixtureProgram }, { envVars, pulumiCommand: cli });
    stacks.push(stack);
    await stack.setConfig("consul-swarm-policy-fixture:fault", { value: fault });
    return stack;
}

/** `pulumi preview --policy-pack policy [--policy-pack-config FILE]`, collecting the policy events. */
async function preview(stack: Stack, config?: string): Promise<Outcome> {
    const events: PolicyEvent[] = [];
    const onEvent = (e: EngineEvent) => {
        const p = e.policyEvent;
        if (p) {
            events.push({ policy: p.policyName, level: p.enforcementLevel, message: p.message, urn: p.resourceUrn });
        }
    };
    const t0 = Date.now();
    try {
        await stack.preview({ policyPacks: [policyPack], policyPackConfigs: config ? [config] : undefined, onEvent, color: "never" });
        return { ok: true, events };
    } catch (e) {
        return { ok: false, events, error: String(e) };
    } finally {
        log(`${stack.name}: preview ${config ? `with ${path.relative(repo, config)} ` : ""}took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
}

function show(o: Outcome): string {
    return JSON.stringify(o.events.map((e) => `[${e.level}] ${e.policy}: ${e.message.split("\n").pop()}`), null, 1) + (o.error ? `\n${o.error.slice(-3000)}` : "");
}

function mandatory(o: Outcome): string[] {
    return [...new Set(o.events.filter((e) => e.level === "mandatory").map((e) => e.policy))].sort();
}

/** The preview passed; advisory findings are allowed only from the listed rules. */
function assertPasses(o: Outcome, advisoryFrom: string[]) {
    assert.ok(o.ok, `the preview should pass:\n${show(o)}`);
    assert.deepEqual(mandatory(o), [], show(o));
    for (const e of o.events) {
        assert.ok(advisoryFrom.includes(e.policy), `unexpected finding from ${e.policy}:\n${show(o)}`);
    }
}

/** The preview failed on exactly this rule, with a message matching every pattern. */
function assertFailsOn(o: Outcome, policy: string, patterns: RegExp[]) {
    assert.equal(o.ok, false, `the preview should fail on ${policy}:\n${show(o)}`);
    assert.deepEqual(mandatory(o), [policy], `only ${policy} should fail:\n${show(o)}`);
    const messages = o.events.filter((e) => e.policy === policy).map((e) => e.message);
    for (const p of patterns) {
        assert.ok(
            messages.some((m) => p.test(m)),
            `no ${policy} message matches ${p}:\n${show(o)}`,
        );
    }
    assert.match(o.error ?? "", /preview failed|mandatory/, "the CLI says why it failed");
}

const EXAMPLE_HOSTS = [
    { name: "consulsvr", address: "192.168.116.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "192.168.116.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "192.168.116.113", roles: ["consul-server", "swarm-agent"] },
];
const TWO_SERVERS = EXAMPLE_HOSTS.map((h) => (h.name === "consul02" ? { ...h, roles: ["consul-client", "swarm-agent"] } : h));

describe("the policy pack on the stack's own program", { timeout: 15 * 60 * 1000, concurrency: 2 }, () => {
    it("passes the example stack with the tutorial's policy config (its plain-TCP Docker API is advisory there)", async () => {
        const o = await preview(await exampleStack("example"), policyConfig("tutorial.json"));
        assertPasses(o, ["docker-api-tls"]);
        assert.equal(o.events.filter((e) => e.policy === "docker-api-tls" && e.level === "advisory").length, 3, show(o));
    });

    it("passes the highly available example (Pulumi.example-ha.yaml: three swarm managers); two managers fail swarm-managers-odd", async () => {
        const o = await preview(await exampleStack("example-ha", undefined, "Pulumi.example-ha.yaml"));
        assertPasses(o, []);
        const managers = fs.readFileSync(path.join(repo, "Pulumi.example-ha.yaml"), "utf8").match(/swarm-manager/g) ?? [];
        assert.equal(managers.length, 3);
        const two = EXAMPLE_HOSTS.map((h) => ({ ...h, roles: ["consul-server", h.name === "consul02" ? "swarm-agent" : "swarm-manager"] }));
        const bad = await preview(await exampleStack("example-ha-two", two, "Pulumi.example-ha.yaml"));
        assertFailsOn(bad, "swarm-managers-odd", [/has 2 managers/]);
    });

    it("fails the example stack on docker-api-tls without that config", async () => {
        const o = await preview(await exampleStack("example-strict"));
        assertFailsOn(o, "docker-api-tls", [/Docker on consulsvr exposes its API on tcp:\/\/0\.0\.0\.0:2375 without TLS/, /Set docker\.bindAddress to 127\.0\.0\.1/]);
    });

    it("flags the tutorial's unprotected mode (no Docker TLS, no Consul ACLs, no Consul TLS) outside dev", async () => {
        const stack = await exampleStack("unprotected");
        await stack.setConfig("consul-swarm:consul", {
            value: JSON.stringify({
                version: "1.14.11",
                install: { url: "https://releases.hashicorp.com/consul/1.14.11/consul_1.14.11_linux_amd64.zip", sha256: "ab".repeat(32), binarySha256: "cd".repeat(32) },
                acl: false,
                tls: false,
            }),
        });
        const o = await preview(stack);
        assert.equal(o.ok, false, show(o));
        assert.deepEqual(mandatory(o), ["consul-acl", "consul-tls", "docker-api-tls"], show(o));
        const messages = o.events.map((e) => e.message).join("\n");
        assert.match(messages, /runs without ACLs\. Remove consul\.acl: false/);
        assert.match(messages, /runs without TLS\. Remove consul\.tls: false/);
        assert.ok(
            o.events.some((e) => e.policy === "swarm-join-tokens-readable" && e.level === "advisory" && /whoever reaches port 8500 of an agent can read them and join the swarm as a manager/.test(e.message)),
            `the join tokens said to be readable: ${show(o)}`,
        );
        // The same stack with the tutorial's policy config: the three are advisories, the preview passes.
        assertPasses(await preview(stack, policyConfig("tutorial.json")), ["docker-api-tls", "consul-acl", "consul-tls", "swarm-join-tokens-readable"]);
    });

    it("fails consul-server-quorum with two Consul servers", async () => {
        const o = await preview(await exampleStack("two-servers", TWO_SERVERS), policyConfig("tutorial.json"));
        assertFailsOn(o, "consul-server-quorum", [/Datacenter dc1 has 2 Consul server\(s\) \(consul01 and consulsvr\): quorum is 2/, /at least 3, the consul-server role/]);
    });

    it("only warns about two servers in a stack the config names a dev stack", async () => {
        const stack = await exampleStack("sandbox", TWO_SERVERS);
        const cfg = path.join(tmp, "sandbox-policy.json");
        const dev = { devStacks: [stack.name] };
        fs.writeFileSync(cfg, JSON.stringify({ "docker-api-tls": "advisory", "consul-server-quorum": dev, "consul-server-quorum-dev": dev, "gossip-encryption": dev }));
        const o = await preview(stack, cfg);
        assertPasses(o, ["docker-api-tls", "consul-server-quorum-dev"]);
        assert.ok(o.events.some((e) => e.policy === "consul-server-quorum-dev" && e.level === "advisory" && /has 2 Consul server/.test(e.message)), show(o));
    });

    it("fails swarm-managers-odd with two swarm managers", async () => {
        const hosts = EXAMPLE_HOSTS.map((h) => (h.name === "consul01" ? { ...h, roles: ["consul-server", "swarm-manager"] } : h));
        const o = await preview(await exampleStack("two-managers", hosts), policyConfig("tutorial.json"));
        assertFailsOn(o, "swarm-managers-odd", [/Swarm swarm has 2 managers \(consulsvr and consul01\)/, /odd number of hosts \(1, 3 or 5\) the swarm-manager role/]);
    });

    it("treats a stack on lab hosts as a dev stack: two servers are advisory, with the lab's policy config", async () => {
        const hosts = [
            { name: "consulsvr", address: "10.215.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
            { name: "consul01", address: "10.215.0.112", roles: ["consul-server", "swarm-agent"] },
            { name: "consul02", address: "10.215.0.113", roles: ["consul-client", "swarm-agent"] },
        ];
        const o = await preview(await labStack("lab", hosts), policyConfig("lab.json"));
        assertPasses(o, ["docker-api-tls", "consul-server-quorum-dev"]);
        assert.ok(o.events.some((e) => e.policy === "consul-server-quorum-dev"), show(o));
    });
});

describe("the policy pack on hand-wired components (test/e2e/fixtures/policy/program)", { timeout: 15 * 60 * 1000, concurrency: 2 }, () => {
    const cases: [fault: string, policy: string, patterns: RegExp[]][] = [
        ["two-bootstrap", "consul-bootstrap", [/Datacenter dc1 has 2 Consul servers that bootstrap \(consul01 and consulsvr\)/, /Keep bootstrap: true on exactly one consul-server host/]],
        ["no-gossip", "gossip-encryption", [/Consul agent consulsvr \(consulsvr-consul\) gossips without encryption/, /Give every ConsulServer and ConsulClient a gossipKey/]],
        [
            "unpinned",
            "consul-version-pinned",
            [/Consul on consul01 is not pinned to a release: version is "1\.14"/, /is downloaded from \S+consul_latest\S+ without a SHA-256/, /Set consul\.install\.sha256/],
        ],
        ["duplicate-address", "unique-nodes", [/Address 192\.0\.2\.12 belongs to 2 hosts \(consul01 and consul02\)/, /Give every host its own address/]],
        ["server-and-client", "unique-nodes", [/Consul node name consul01 is used by 2 agents in datacenter dc1 \(consul01-client and consul01-consul\)/, /Run one Consul agent per host/]],
        ["agent-without-manager", "swarm-agents-have-manager", [/Swarm swarm has agent\(s\) consul01 and consul02 but no manager/, /swarm-manager role/]],
        [
            "secret-in-command",
            "no-plaintext-secrets",
            [
                /keyring-install \(command:remote:Command\) computes its input "create" from gossip-key \(random:index\/randomBytes:RandomBytes\)/,
                /keyring-local \(command:local:Command\) computes its input "environment" from gossip-key/,
                /stdin wrapped in pulumi\.secret/,
            ],
        ],
    ];

    it("passes the fault-free wiring (with the tutorial's policy config)", async () => {
        assertPasses(await preview(await fixtureStack("none"), policyConfig("tutorial.json")), ["docker-api-tls", "consul-acl", "consul-tls", "swarm-join-tokens-readable"]);
    });

    for (const [fault, policy, patterns] of cases) {
        it(`fails ${policy} on ${fault}`, async () => {
            assertFailsOn(await preview(await fixtureStack(fault), policyConfig("tutorial.json")), policy, patterns);
        });
    }
});
