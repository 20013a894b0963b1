// One passing and at least one failing case per rule, against the real policy functions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPES } from "../facts";
import {
    certificateExpired,
    certificateExpiring,
    consulBootstrap,
    consulFederation,
    consulServerQuorum,
    consulServerQuorumDev,
    consulVersionPinned,
    devStackReason,
    dockerApiTls,
    gossipEncryption,
    consulAcl,
    consulTls,
    noPlaintextSecrets,
    swarmAgentsHaveManager,
    swarmJoinTokensReadable,
    swarmManagersOdd,
    uniqueNodes,
} from "../rules";
import { FakeStack, GOSSIP_KEY, Outcome, runResourcePolicy, runStackPolicy, secret, SSH_KEY, tutorialStack, UNKNOWN_VALUE } from "./harness";

function assertPasses(o: Outcome) {
    assert.deepEqual(
        o.violations.map((v) => v.message),
        [],
        "expected no violations",
    );
    assert.equal(o.notApplicable, undefined, "expected the policy to apply");
}

/** Exactly one violation (or `count`), whose message matches every pattern. */
function assertViolation(o: Outcome, patterns: RegExp[], count = 1) {
    assert.equal(o.violations.length, count, `expected ${count} violation(s), got: ${JSON.stringify(o.violations.map((v) => v.message), null, 1)}`);
    for (const p of patterns) {
        assert.ok(
            o.violations.some((v) => p.test(v.message)),
            `no violation matches ${p}; got: ${o.violations.map((v) => v.message).join(" | ")}`,
        );
    }
}

const servers = (s: FakeStack) => s.resources.filter((r) => r.type === TYPES.consulServer);

describe("consul-bootstrap", () => {
    const policy = consulBootstrap();
    it("passes with exactly one bootstrapping server (tutorial mode)", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("passes when every server expects the number of servers (expect mode)", async () => {
        const s = tutorialStack();
        for (const r of servers(s)) {
            r.props = { ...r.props, bootstrap: false, bootstrapExpect: 3 };
        }
        assertPasses(await runStackPolicy(policy, s));
    });
    it("fails when two servers bootstrap", async () => {
        const s = tutorialStack();
        s.get("consul01-consul").props.bootstrap = true;
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/2 Consul servers that bootstrap \(consul01 and consulsvr\)/, /Keep bootstrap: true on exactly one consul-server host/]);
        assert.equal(o.violations[0].urn, s.urn("consulsvr-consul"));
        assert.equal(o.violations[0].level, "mandatory");
    });
    it("fails when no server bootstraps and none expects", async () => {
        const s = tutorialStack();
        s.get("consulsvr-consul").props.bootstrap = false;
        assertViolation(await runStackPolicy(policy, s), [/never elect a leader/, /bootstrap: true \(tutorial mode\)/]);
    });
    it("fails when bootstrap_expect differs from the number of servers", async () => {
        const s = tutorialStack();
        for (const r of servers(s)) {
            r.props = { ...r.props, bootstrap: false, bootstrapExpect: 5 };
        }
        assertViolation(await runStackPolicy(policy, s), [/bootstrap_expect is 5 on consul01, 5 on consul02, 5 on consulsvr, but the datacenter has 3 servers/]);
    });
    it("fails when the modes are mixed", async () => {
        const s = tutorialStack();
        s.get("consul01-consul").props.bootstrapExpect = 3;
        assertViolation(await runStackPolicy(policy, s), [/mixes both modes/]);
    });
    it("judges each datacenter on its own", async () => {
        const s = tutorialStack();
        s.get("consul02-consul").props = { ...s.get("consul02-consul").props, datacenter: "dc2", bootstrap: true };
        s.get("consul01-consul").props.datacenter = "dc2";
        assertPasses(await runStackPolicy(policy, s));
    });
    it("waits for `pulumi up` when a server's bootstrap is unknown", async () => {
        const s = tutorialStack();
        s.get("consul01-consul").props.bootstrap = UNKNOWN_VALUE;
        s.get("consulsvr-consul").props.bootstrap = false;
        assertPasses(await runStackPolicy(policy, s));
    });
});

describe("consul-server-quorum (outside dev stacks)", () => {
    const policy = consulServerQuorum();
    it("passes with 3 servers", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("fails with 2 servers", async () => {
        const s = tutorialStack();
        s.get("consul02-consul").type = TYPES.consulClient;
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/Datacenter dc1 has 2 Consul server\(s\) \(consul01 and consulsvr\): quorum is 2, so it survives 0 server failure\(s\)/, /odd number of hosts, at least 3/]);
        assert.equal(o.violations[0].level, "mandatory");
    });
    it("fails with a single server", async () => {
        const s = tutorialStack();
        s.get("consul01-consul").type = TYPES.consulClient;
        s.get("consul02-consul").type = TYPES.consulClient;
        assertViolation(await runStackPolicy(policy, s), [/has 1 Consul server/]);
    });
    it("does not apply to a dev stack, by name or by lab hosts", async () => {
        const byName = tutorialStack({ stack: "dev" });
        byName.get("consul02-consul").type = TYPES.consulClient;
        assert.match((await runStackPolicy(policy, byName)).notApplicable ?? "", /stack "dev" is listed in devStacks/);
        const lab = tutorialStack({ stack: "mylab" }).add(TYPES.labHosts, "lab", { subnet: "10.213.0.0/24", hosts: ["consulsvr"] });
        assert.match((await runStackPolicy(policy, lab)).notApplicable ?? "", /lab hosts \(lab\)/);
    });
    it("takes the dev stack names from its config", async () => {
        const s = tutorialStack({ stack: "sandbox" });
        s.get("consul02-consul").type = TYPES.consulClient;
        assert.equal((await runStackPolicy(policy, s)).violations.length, 1);
        assert.match((await runStackPolicy(policy, s, { devStacks: ["sandbox"] })).notApplicable ?? "", /sandbox/);
    });
});

describe("consul-server-quorum-dev (advisory in dev stacks)", () => {
    const policy = consulServerQuorumDev();
    it("passes with a single server in the dev stack", async () => {
        const s = tutorialStack({ stack: "dev" });
        s.get("consul01-consul").type = TYPES.consulClient;
        s.get("consul02-consul").type = TYPES.consulClient;
        assertPasses(await runStackPolicy(policy, s));
    });
    it("warns about an even number of servers in the dev stack", async () => {
        const s = tutorialStack({ stack: "dev" });
        s.get("consul02-consul").type = TYPES.consulClient;
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/has 2 Consul server/, /odd number of consul-server hosts \(1 is fine in a dev stack\)/]);
        assert.equal(o.violations[0].level, "advisory");
    });
    it("does not apply outside dev stacks", async () => {
        assert.match((await runStackPolicy(policy, tutorialStack())).notApplicable ?? "", /not a dev stack/);
    });
});

describe("docker-api-tls", () => {
    const policy = dockerApiTls();
    it("passes when the API listens on loopback only", async () => {
        const s = tutorialStack();
        for (const r of s.resources.filter((r) => r.type === TYPES.dockerDaemon)) {
            r.props.bindAddress = "127.0.0.1";
        }
        assertPasses(await runResourcePolicy(policy, s));
    });
    it("passes a non-loopback API with TLS", async () => {
        const s = tutorialStack();
        for (const r of s.resources.filter((r) => r.type === TYPES.dockerDaemon)) {
            r.props.tls = true;
        }
        assertPasses(await runResourcePolicy(policy, s));
    });
    it("fails on the tutorial's plain TCP API on 0.0.0.0", async () => {
        const o = await runResourcePolicy(policy, tutorialStack());
        assertViolation(o, [/Docker on consulsvr exposes its API on tcp:\/\/0\.0\.0\.0:2375 without TLS/, /Set docker.bindAddress to 127.0.0.1/, /policy\/config\/tutorial.json/], 3);
        assert.equal(o.violations[0].level, "mandatory");
    });
    it("waits for `pulumi up` when the bind address is unknown", async () => {
        const s = tutorialStack();
        for (const r of s.resources.filter((r) => r.type === TYPES.dockerDaemon)) {
            r.props.bindAddress = UNKNOWN_VALUE;
        }
        assertPasses(await runResourcePolicy(policy, s));
    });
});

describe("gossip-encryption", () => {
    const policy = gossipEncryption();
    it("passes when every agent encrypts gossip", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("fails on an agent without a gossip key", async () => {
        const s = tutorialStack();
        s.get("consul01-consul").props.gossipEncryption = false;
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/Consul agent consul01 \(consul01-consul\) gossips without encryption/, /gossipKey/]);
        assert.equal(o.violations[0].urn, s.urn("consul01-consul"));
    });
    it("does not apply to the dev stack", async () => {
        const s = tutorialStack({ stack: "dev" });
        s.get("consul01-consul").props.gossipEncryption = false;
        assert.match((await runStackPolicy(policy, s)).notApplicable ?? "", /dev/);
    });
});

for (const [rule, fact, pattern] of [
    [consulAcl, "acl", /Consul agent consul01 \(consul01-consul\) runs without ACLs\. Remove consul\.acl: false/],
    [consulTls, "tls", /Consul agent consul01 \(consul01-consul\) runs without TLS\. Remove consul\.tls: false/],
] as const) {
    const policy = rule();
    describe(policy.name, () => {
        it(`passes when every agent has ${fact} on`, async () => {
            assertPasses(await runStackPolicy(policy, tutorialStack()));
        });
        it(`fails on an agent with ${fact} off`, async () => {
            const s = tutorialStack();
            s.get("consul01-consul").props[fact] = false;
            const o = await runStackPolicy(policy, s);
            assertViolation(o, [pattern]);
            assert.equal(o.violations[0].urn, s.urn("consul01-consul"));
        });
        it("does not apply to the dev stack", async () => {
            const s = tutorialStack({ stack: "dev" });
            s.get("consul01-consul").props[fact] = false;
            assert.match((await runStackPolicy(policy, s)).notApplicable ?? "", /dev/);
        });
    });
}

describe("consul-version-pinned", () => {
    const policy = consulVersionPinned();
    it("passes an exact version installed from a URL with its SHA-256", async () => {
        assertPasses(await runResourcePolicy(policy, tutorialStack()));
    });
    it("passes a file install (the stack hashes the file itself)", async () => {
        const s = tutorialStack();
        for (const r of servers(s)) {
            r.props.install = { kind: "file" };
        }
        assertPasses(await runResourcePolicy(policy, s));
    });
    it("fails on an unpinned version", async () => {
        const s = tutorialStack();
        s.get("consul01-consul").props.version = "latest";
        assertViolation(await runResourcePolicy(policy, s), [/Consul on consul01 is not pinned to a release: version is "latest"/, /exact release such as "1.14.11"/]);
    });
    it("fails on a URL install without a SHA-256", async () => {
        const s = tutorialStack();
        s.get("consul02-consul").props.install = { kind: "url", url: "https://releases.example/consul/1.14.11/consul_1.14.11_linux_amd64.zip" };
        assertViolation(await runResourcePolicy(policy, s), [/Consul on consul02 is downloaded from https:\/\/releases.example\/\S+ without a SHA-256 \(got null\)/, /Set consul.install.sha256/]);
    });
    it("fails on a URL that names another release", async () => {
        const s = tutorialStack();
        s.get("consulsvr-consul").props.install = { kind: "url", url: "https://releases.example/consul/1.15.0/consul_1.15.0_linux_amd64.zip", sha256: "cd".repeat(32) };
        assertViolation(await runResourcePolicy(policy, s), [/pinned to 1.14.11 but downloaded from \S+1.15.0\S+, which names another release/]);
    });
});

describe("unique-nodes", () => {
    const policy = uniqueNodes();
    it("passes with distinct names and addresses", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("fails when two hosts share an address", async () => {
        const s = tutorialStack();
        s.get("consul02").props.address = "192.168.116.112";
        s.get("consul02-consul").props.address = "192.168.116.112";
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/Address 192.168.116.112 belongs to 2 hosts \(consul01 and consul02\)/, /Address 192.168.116.112 is used by 2 Consul agents/], 2);
    });
    it("fails when a host runs a server and a client under one node name", async () => {
        const s = tutorialStack();
        s.add(TYPES.consulClient, "consul01-client", { ...s.get("consul01-consul").props, server: false });
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/Consul node name consul01 is used by 2 agents in datacenter dc1 \(consul01-client and consul01-consul\)/, /Run one Consul agent per host/], 2);
    });
});

describe("swarm-agents-have-manager", () => {
    const policy = swarmAgentsHaveManager();
    it("passes when the swarm has a manager", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("fails on agents without a manager", async () => {
        const s = tutorialStack();
        s.get("swarm").props.managers = [];
        assertViolation(await runStackPolicy(policy, s), [/Swarm swarm has agent\(s\) consul01 and consul02 but no manager/, /swarm-manager role/]);
    });
});

describe("swarm-managers-odd", () => {
    const policy = swarmManagersOdd();
    it("passes with one manager", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("fails with two managers", async () => {
        const s = tutorialStack();
        s.get("swarm").props = { managers: ["consulsvr", "consul01"], agents: ["consul02"] };
        assertViolation(await runStackPolicy(policy, s), [/Swarm swarm has 2 managers \(consulsvr and consul01\), which tolerate 0 failure\(s\)/, /odd number of hosts \(1, 3 or 5\)/]);
    });
});

describe("swarm-join-tokens-readable", () => {
    const policy = swarmJoinTokensReadable();
    it("passes when every agent has ACLs", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("says the join tokens are readable when an agent runs without ACLs, in a dev stack too", async () => {
        const s = tutorialStack();
        s.get("consul01-consul").props.acl = false;
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/Swarm swarm's join tokens, the manager's too, are in Consul KV \(consul-swarm\/swarm\/\), and Consul runs without ACLs on consul01: whoever reaches port 8500/, /Remove consul\.acl: false/]);
        assert.equal(policy.enforcementLevel, "advisory");
    });
});

describe("certificate-expiring and certificate-expired", () => {
    const NOW = Date.parse("2026-12-08T00:00:00Z");
    const DAY = 86400_000;
    const withCa = (expiries: unknown) =>
        tutorialStack().add(TYPES.certificateAuthority, "consul-tls", { commonName: "consul-swarm Consul CA", leaves: ["agent-consulsvr"], expiries });
    const at = (ms: number) => new Date(ms).toISOString();
    it("pass a stack whose certificates all have more than 30 days, and one whose expiries are not known yet", async () => {
        const far = withCa({ ca: at(NOW + 3000 * DAY), "agent-consulsvr": at(NOW + 300 * DAY) });
        assertPasses(await runStackPolicy(certificateExpiring(undefined, undefined, () => NOW), far));
        assertPasses(await runStackPolicy(certificateExpired(undefined, undefined, () => NOW), far));
        assertPasses(await runStackPolicy(certificateExpired(undefined, undefined, () => NOW), withCa(UNKNOWN_VALUE)));
        assertPasses(await runStackPolicy(certificateExpiring(undefined, undefined, () => NOW), tutorialStack()));
    });
    it("name a certificate ending within 30 days (advisory), with its end and what to do", async () => {
        const o = await runStackPolicy(certificateExpiring(undefined, undefined, () => NOW), withCa({ ca: at(NOW + 3000 * DAY), "agent-consulsvr": at(NOW + 12 * DAY) }));
        assertViolation(o, [/^Certificate consul-tls: agent-consulsvr ends at 2026-12-20T00:00:00.000Z, in 12 day\(s\)\. A leaf is renewed by an up once due/]);
        const minutes = await runStackPolicy(certificateExpiring(undefined, undefined, () => NOW), withCa({ "agent-consulsvr": at(NOW + 20 * 60_000) }));
        assertViolation(minutes, [/in 20 minute\(s\)/]);
        const tuned = await runStackPolicy(certificateExpiring(undefined, undefined, () => NOW), withCa({ "agent-consulsvr": at(NOW + 12 * DAY) }), { warnDays: 7 });
        assertPasses(tuned);
        assert.equal(certificateExpiring().enforcementLevel, "advisory");
    });
    it("fail a preview once a certificate has ended (mandatory), and only that one", async () => {
        const o = await runStackPolicy(certificateExpired(undefined, undefined, () => NOW), withCa({ ca: at(NOW + 3000 * DAY), "agent-consulsvr": at(NOW - 60_000) }));
        assertViolation(o, [/^Certificate consul-tls: agent-consulsvr ended at 2026-12-07T23:59:00.000Z: whatever presents it fails TLS/]);
        assert.equal(certificateExpired().enforcementLevel, "mandatory");
    });
});

describe("consul-federation", () => {
    const policy = consulFederation();
    /** The tutorial stack as datacenter dc2, federated with dc1 (every agent on TLS and 1.14.11). */
    const federated = (facts: Record<string, unknown> = {}) => {
        const s = tutorialStack();
        for (const r of s.resources.filter((x) => x.type === TYPES.consulServer || x.type === TYPES.consulClient)) {
            r.props = { ...r.props, datacenter: "dc2", tls: true, version: "1.14.11" };
        }
        return s.add(TYPES.wanFederation, "consul-wan", { datacenter: "dc2", primaryDatacenter: "dc1", version: "1.14.11", primaryVersion: "1.14.8", tls: true, ...facts });
    };
    it("passes a stack without a federation, and a federation on one minor version (1.14.8 and 1.14.11) with TLS", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
        assertPasses(await runStackPolicy(policy, federated()));
    });
    it("judges at `up` what preview does not know yet (the primary's outputs)", async () => {
        assertPasses(await runStackPolicy(policy, federated({ primaryDatacenter: UNKNOWN_VALUE, primaryVersion: UNKNOWN_VALUE })));
    });
    it("fails when the primary runs another minor version", async () => {
        assertViolation(await runStackPolicy(policy, federated({ primaryVersion: "1.13.9" })), [
            /more than one Consul minor version: the primary dc1 1\.13\.9, datacenter dc2 1\.14\.11/,
            /Set consul\.version to the primary's minor release/,
        ]);
    });
    it("fails when the primary is missing or is the datacenter itself", async () => {
        assertViolation(await runStackPolicy(policy, federated({ primaryDatacenter: "" })), [/without a primary datacenter\. Set federation\.primaryStack/]);
        assertViolation(await runStackPolicy(policy, federated({ primaryDatacenter: "dc2" })), [/names itself as the primary/]);
    });
    it("fails when an agent runs without TLS, in a dev stack too", async () => {
        const s = federated();
        s.get("consul01-consul").props.tls = false;
        s.add(TYPES.labHosts, "lab", { subnet: "10.213.0.0/24", hosts: ["consulsvr"] });
        assertViolation(await runStackPolicy(policy, s), [/agent\(s\) consul01 run without TLS\. Remove consul\.tls: false/]);
    });
});

describe("no-plaintext-secrets", () => {
    const policy = noPlaintextSecrets();
    it("passes the tutorial stack after `up`: the gossip key only on stdin, the SSH key only in the connection", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack()));
    });
    it("passes the tutorial stack in preview, with every secret unknown", async () => {
        assertPasses(await runStackPolicy(policy, tutorialStack({ preview: true })));
    });
    it("fails in preview on a command whose text is computed from the gossip key, though its value is unknown", async () => {
        const s = tutorialStack({ preview: true });
        s.add(TYPES.remoteCommand, "keygen", { create: UNKNOWN_VALUE }, { propertyDependencies: { create: ["gossip-key"] } });
        const o = await runStackPolicy(policy, s);
        assertViolation(o, [/keygen \(command:remote:Command\) computes its input "create" from gossip-key \(random:index\/randomBytes:RandomBytes\)/, /stdin wrapped in pulumi.secret/]);
        assert.equal(o.violations[0].urn, s.urn("keygen"));
    });
    it("fails on an environment variable computed from a random password", async () => {
        const s = tutorialStack({ preview: true }).add(TYPES.randomPassword, "token", { length: 20, result: UNKNOWN_VALUE });
        s.add(TYPES.localCommand, "use-token", { create: "curl ...", environment: { TOKEN: UNKNOWN_VALUE } }, { propertyDependencies: { environment: ["token"] } });
        assertViolation(await runStackPolicy(policy, s), [/use-token \(command:local:Command\) computes its input "environment" from token/, /an environment variable/]);
    });
    it("accepts an input listed in secretChannels", async () => {
        const s = tutorialStack({ preview: true });
        s.add(TYPES.localCommand, "use-key", { environment: { KEY: UNKNOWN_VALUE } }, { propertyDependencies: { environment: ["gossip-key"] } });
        assertPasses(await runStackPolicy(policy, s, { secretChannels: { [TYPES.localCommand]: ["stdin", "environment"] } }));
    });
    it("fails on the gossip key's value in a command string, even when the engine sent it as a secret", async () => {
        const s = tutorialStack();
        // Computed without a dependency (copied by hand): only the value gives it away. The engine
        // sends it as a secret; the policy sees it unwrapped.
        s.add(TYPES.remoteCommand, "leak", { create: secret(`consul keyring -install ${GOSSIP_KEY}`) });
        assertViolation(await runStackPolicy(policy, s), [/leak \(command:remote:Command\) carries gossip-key's secret output base64 in plain text in "create"/]);
    });
    it("accepts the SSH key in a drift check's connection and in the dynamic provider's config, nowhere else on them", async () => {
        const s = tutorialStack();
        s.add(TYPES.driftCheck, "consul01-consul-drift", { connection: secret({ host: "10.0.0.2", privateKey: SSH_KEY }), script: "true" });
        s.add(TYPES.dynamicProvider, "default", { "consul-swarm:sshPrivateKey": secret(SSH_KEY) });
        assertPasses(await runStackPolicy(policy, s));
        s.get("consul01-consul-drift").props.script = `echo ${SSH_KEY}`;
        assertViolation(await runStackPolicy(policy, s), [/consul01-consul-drift \(pulumi-nodejs:dynamic\/consul-swarm:DriftCheck\) carries the SSH connection's privateKey in plain text in "script"/]);
    });
    it("fails on the SSH key in a component's facts", async () => {
        const s = tutorialStack();
        s.get("consul01").props.user = SSH_KEY;
        assertViolation(await runStackPolicy(policy, s), [/consul01 \(consul-swarm:host:Host\) carries the SSH connection's privateKey in plain text in "user"/]);
    });
    it("fails on a command that prints a secret unless its stdout is an additionalSecretOutput", async () => {
        const s = tutorialStack();
        s.get("consul01-consul-service").props.stdout = `encrypt=${GOSSIP_KEY}`;
        assertViolation(await runStackPolicy(policy, s), [/carries gossip-key's secret output base64 in plain text in "stdout"/, /additionalSecretOutputs/]);
        s.get("consul01-consul-service").additionalSecretOutputs = ["stdout"];
        assertPasses(await runStackPolicy(policy, s));
    });
});

describe("dev stacks", () => {
    it("are recognised by lab hosts or by name, nothing else", () => {
        const args = (s: FakeStack) => s.stackArgs().resources;
        assert.equal(devStackReason(args(tutorialStack({ stack: "example" }))), undefined);
        assert.match(devStackReason(args(tutorialStack({ stack: "dev" }))) ?? "", /stack "dev"/);
        assert.equal(devStackReason(args(tutorialStack({ stack: "dev" })), []), undefined);
        assert.match(devStackReason(args(tutorialStack({ stack: "prod" }).add(TYPES.labHosts, "lab", { subnet: "10.0.0.0/24", hosts: [] }))) ?? "", /lab hosts/);
    });
});
