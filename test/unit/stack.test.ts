// The resource graph, with Pulumi's mocks: which resources exist for which roles, the edges
// between them, and what is secret. The mocks record every registration as the engine would
// receive it (type, name, parent, dependencies, inputs with their secret markers).
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig, resolveInstall, RawConfig } from "../../components/config";
import { isSecretValue, MOCK_PEM, MOCK_RELEASE, recordingMocks, Registration, settled } from "./recordingMocks";

let registrations: Registration[] = [];

before(async () => {
    registrations = await recordingMocks("test");
});

/** An input as the engine got it: a secret's value unwrapped from its envelope. */
function plain(v: unknown): string {
    return typeof v === "object" && v !== null && "value" in v ? String((v as { value: unknown }).value) : String(v);
}

function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Builds the stack for a raw config and waits until every registration has reached the mocks. */
async function build(
    raw: RawConfig,
    env: NodeJS.ProcessEnv = {},
    federation?: import("../../components/consulSwarm").ConsulSwarmFederation,
    extra: Partial<import("../../components/consulSwarm").ConsulSwarmArgs> = {},
) {
    const { ConsulSwarm, consulSwarmArgs } = await import("../../components/consulSwarm");
    const { labFor } = await import("../../lab/hosts/labHosts");
    const res = validateConfig(raw);
    assert.deepEqual(res.errors, []);
    const install = resolveInstall(res.settings!.consul.install, env, fs.existsSync, res.settings!.consul.version);
    const start = registrations.length;
    const outputs = new ConsulSwarm("test", { ...consulSwarmArgs(res.settings!, install, pulumi.secret("PRIVATE-KEY"), labFor(res.settings!)), federation, ...extra });
    const values = {
        leader: await promiseOf(outputs.consulLeader),
        members: await promiseOf(outputs.consulMembers),
        swarmNodes: outputs.swarmNodes ? await promiseOf(outputs.swarmNodes) : undefined,
        uiUrl: await promiseOf(outputs.consulUiUrl),
        dockerHosts: await promiseOf(pulumi.output(outputs.dockerHosts)),
        swarmManager: outputs.swarmManager ? await promiseOf(outputs.swarmManager) : undefined,
        gossipKeySecret: await pulumi.isSecret(outputs.gossipKey),
        dockerTlsSecret: outputs.dockerTls ? await pulumi.isSecret(outputs.dockerTls) : undefined,
        aclToken: outputs.aclBootstrapToken ? await promiseOf(outputs.aclBootstrapToken) : undefined,
        consulCaCert: outputs.consulCaCert ? await promiseOf(outputs.consulCaCert) : undefined,
        consulHttpsAddr: outputs.consulHttpsAddr ? await promiseOf(outputs.consulHttpsAddr) : undefined,
        aclTokenSecret: outputs.aclBootstrapToken ? await pulumi.isSecret(outputs.aclBootstrapToken) : undefined,
        certificateExpiry: await promiseOf(outputs.certificateExpiry),
        certificateExpirySecret: await pulumi.isSecret(outputs.certificateExpiry),
        certificateRenewal: await promiseOf(outputs.certificateRenewal),
    };
    await settled(registrations);
    const regs = registrations.slice(start);
    const byName = new Map(regs.map((r) => [r.name, r]));
    return { regs, byName, values, outputs };
}


const tutorial: RawConfig = {
    hosts: [
        { name: "consulsvr", address: "10.0.0.1", roles: ["consul-server", "swarm-manager"], bootstrap: true },
        { name: "consul01", address: "10.0.0.2", roles: ["consul-server", "swarm-agent"] },
        { name: "consul02", address: "10.0.0.3", roles: ["consul-server", "swarm-agent"] },
    ],
    consul: { install: { url: "https://releases.example/consul.zip", sha256: "b".repeat(64) } },
    hasPrivateKey: true,
};

describe("the tutorial's three hosts", () => {
    let g: Awaited<ReturnType<typeof build>>;
    before(async () => {
        g = await build(tutorial);
    });

    const need = (name: string) => {
        const r = g.byName.get(name);
        assert.ok(r, `no resource ${name}; have ${[...g.byName.keys()].join(", ")}`);
        return r!;
    };
    const assertEdge = (from: string, to: string) =>
        assert.ok(need(from).deps.includes(to), `${from} must depend on ${to}; it depends on [${need(from).deps.join(", ")}]`);

    it("creates one Host, DockerDaemon and ConsulServer per host, one cluster and one swarm", () => {
        const count = (t: string) => g.regs.filter((r) => r.type === t).length;
        assert.equal(count("consul-swarm:host:Host"), 3);
        assert.equal(count("consul-swarm:docker:DockerDaemon"), 3);
        assert.equal(count("consul-swarm:consul:ConsulServer"), 3);
        assert.equal(count("consul-swarm:consul:ConsulCluster"), 1);
        assert.equal(count("consul-swarm:swarm:Swarm"), 1);
        assert.equal(count("consul-swarm:lab:LabHosts"), 0, "real hosts get no lab");
        assert.equal(count("random:index/randomBytes:RandomBytes"), 5, "one gossip key, one management, one agent, one swarm managers' and one swarm workers' token per stack");
        assert.equal(count("command:remote:CopyToRemote"), 0, "a URL install copies nothing");
    });

    it("the swarm hosts get their own KV-only token over HTTPS, never the management token", () => {
        const init = need("swarm-init-consulsvr").inputs;
        assert.match(String(init.create), /CONSUL='https:\/\/10\.0\.0\.1:8501'/);
        assert.match(String(init.create), /KV_PREFIX='consul-swarm\/swarm'/);
        const acl = need("consul-acl-agent").inputs;
        assert.match(String(acl.create), /SWARM_RULES='key_prefix "consul-swarm\/swarm\/" \{ policy = "write" \}/);
        assert.match(
            String(acl.create),
            /SWARM_WORKER_RULES='key "consul-swarm\/swarm\/worker-token" \{ policy = "read" \}\nkey "consul-swarm\/swarm\/manager-addr" \{ policy = "read" \}\nkey_prefix "consul-swarm\/swarm\/restart-turns\/" \{ policy = "write" \}\n'/,
        );
        for (const step of ["swarm-init-consulsvr", "swarm-join-consul01", "consul01-docker-restart"]) {
            assert.ok(plain(need(step).inputs.stdin).length > 0);
            assert.ok(!plain(need(step).inputs.stdin).includes(String(g.values.aclToken)), `${step}: no management token on stdin`);
        }
        // The ACL step's stdin: agents', managers', (replication), workers' tokens, a line each.
        const [, managers, , workers] = plain(acl.stdin).split("\n");
        assert.ok(managers && workers && managers !== workers);
        const firstLine = (step: string) => plain(need(step).inputs.stdin).split("\n")[0];
        assert.equal(firstLine("swarm-init-consulsvr"), managers, "the first manager gets the managers' token");
        assert.equal(firstLine("swarm-join-consul01"), workers, "a worker joins with the workers' token, which cannot read the manager join token");
        assert.equal(firstLine("consul01-docker-restart"), workers, "a worker takes restart turns with it too");
    });

    it("parents every command under its component", () => {
        assert.equal(need("consulsvr-facts").parent, "consulsvr");
        assert.equal(need("consul01-docker-config").parent, "consul01-docker");
        assert.equal(need("consul01-consul-service").parent, "consul01-consul");
        assert.equal(need("consul-join").parent, "consul");
        assert.equal(need("swarm-verify").parent, "swarm");
    });

    it("orders Host → DockerDaemon/ConsulServer → ConsulCluster → Swarm", () => {
        for (const h of ["consulsvr", "consul01", "consul02"]) {
            // The transition is judged before the first SSH dial to any host.
            assertEdge(`${h}-facts`, "cluster-transition");
            // Its clock is read right after its facts, before any step that needs certificates to work.
            assertEdge(`${h}-clock`, `${h}-facts`);
            assertEdge(`${h}-docker-config`, `${h}-clock`);
            assertEdge(`${h}-consul-install`, `${h}-clock`);
            assertEdge(`${h}-consul-service`, `${h}-consul-install`);
            assertEdge(`${h}-consul-deferred-restart`, `${h}-consul-service`);
            assertEdge("consul-join", `${h}-consul-deferred-restart`);
        }
        // The quorum guard runs before the membership changes: the join (and so every later step) waits for it.
        assertEdge("consul-join", "consul-quorum-guard");
        assertEdge("consul-quorum-guard", "consulsvr-clock");
        assertEdge("consul-acl-agent", "consul-join");
        assertEdge("consul-verify", "consul-acl-agent");
        // The swarm needs a leader and its token, not every server voting: it forms while verify waits.
        assertEdge("swarm-init-consulsvr", "consul-acl-agent");
        assert.ok(!need("swarm-init-consulsvr").deps.includes("consul-verify"), "swarm init does not wait for consul-verify");
        assertEdge("swarm-init-consulsvr", "consulsvr-docker-restart");
        assertEdge("swarm-join-consul01", "swarm-init-consulsvr");
        assertEdge("swarm-join-consul01", "consul01-docker-restart");
        // A daemon's restart follows its config step; managers take turns (one manager here), and
        // workers wait for no other host, so a dead worker holds back nothing but itself.
        for (const h of ["consulsvr", "consul01", "consul02"]) {
            assertEdge(`${h}-docker-restart`, `${h}-docker-config`);
            assert.ok(!need(`${h}-docker-restart`).deps.some((d) => d.endsWith("-docker-restart")), `${h} waits for no other daemon`);
        }
        assertEdge("swarm-verify", "swarm-join-consul01");
        assertEdge("swarm-verify", "swarm-join-consul02");
    });

    it("rolls restarts one server at a time, the bootstrap server last, the leader after all of them", () => {
        assertEdge("consul02-consul-service", "consul01-consul-service");
        assertEdge("consulsvr-consul-service", "consul02-consul-service");
        assert.ok(!need("consul01-consul-service").deps.some((d) => d.endsWith("-consul-service")), "the first server waits for no other");
        // A snapshot of the cluster is saved before the first server's step can restart anything.
        assertEdge("consul01-consul-service", "consul-snapshot-save");
        // Whichever server leads defers its restart to its deferred-restart step, after the last server's step.
        for (const h of ["consulsvr", "consul01", "consul02"]) {
            assertEdge(`${h}-consul-deferred-restart`, "consulsvr-consul-service");
        }
        // Put-off restarts (a leader's, a healthy server's in a degraded cluster) go one at a time too.
        assertEdge("consul02-consul-deferred-restart", "consul01-consul-deferred-restart");
        assertEdge("consulsvr-consul-deferred-restart", "consul02-consul-deferred-restart");
    });

    it("saves the snapshot through the servers' HTTPS API, its token and CA on stdin only", () => {
        const save = need("consul-snapshot-save");
        assert.equal(save.type, "command:local:Command");
        const create = String(save.inputs.create);
        assert.match(create, /ACTION='save'/);
        assert.match(create, /ADDRS='https:\/\/10\.0\.0\.1:8501 https:\/\/10\.0\.0\.2:8501 https:\/\/10\.0\.0\.3:8501'/);
        assert.match(create, /LABEL='before-1\.14\.11'/);
        assert.ok(!create.includes(String(g.values.aclToken)), "no token in the command");
        assert.match(plain(save.inputs.stdin), new RegExp(`^${g.values.aclToken}\n-----BEGIN`), "token, then the CA, on stdin");
    });

    it("bootstraps exactly one server, the one marked bootstrap", () => {
        const boots = g.regs.filter((r) => r.name.endsWith("-consul-service") && /BOOTSTRAP_JSON='\{"bootstrap":true\}\n'/.test(String(r.inputs.create)));
        assert.deepEqual(
            boots.map((r) => r.name),
            ["consulsvr-consul-service"],
        );
    });

    it("joins from the bootstrap server to the others, and re-joins when the set changes", () => {
        const join = need("consul-join");
        assert.match(String(join.inputs.create), /ADDRESSES='10.0.0.2 10.0.0.3'/);
        assert.deepEqual(join.inputs.triggers, [["10.0.0.2", "10.0.0.3"], ["10.0.0.2", "10.0.0.3", "10.0.0.1"]]);
    });

    it("keeps the gossip key and the SSH key secret, and off every command line", () => {
        assert.ok(g.values.gossipKeySecret);
        const service = need("consul01-consul-service");
        assert.ok(isSecretValue(service.inputs.stdin), "the consul config (with the gossip key) is a secret stdin");
        assert.ok(isSecretValue(service.inputs.connection), "the connection carries the private key: secret");
        const key = Buffer.alloc(32, 1).toString("base64");
        for (const r of g.regs) {
            assert.ok(!JSON.stringify(r.inputs.create ?? "").includes(key), `${r.name}: gossip key in a command line`);
            assert.ok(!JSON.stringify(r.inputs.create ?? "").includes("PRIVATE-KEY"), `${r.name}: SSH key in a command line`);
        }
    });

    it("gives the Docker API TLS by default: a CA, a server pair per host, a client pair, all on stdin", () => {
        const local = g.regs.filter((r) => r.type === "command:local:Command" && r.name.startsWith("docker-tls-")).map((r) => r.name).sort();
        assert.deepEqual(local, ["docker-tls-ca", "docker-tls-client", "docker-tls-server-consul01", "docker-tls-server-consul02", "docker-tls-server-consulsvr"]);
        assert.match(String(need("docker-tls-server-consul01").inputs.create), /SAN='IP:10.0.0.2,DNS:consul01,IP:127.0.0.1,DNS:localhost'/);
        assert.ok(isSecretValue(need("docker-tls-server-consul01").inputs.stdin), "the CA key reaches openssl on stdin, as a secret");
        assert.equal(need("docker-tls-ca").inputs.logging, "none", "key material is never streamed to the console");
        const config = need("consul01-docker-config");
        assert.match(String(config.inputs.create), /TLS='yes'/);
        assert.ok(isSecretValue(config.inputs.stdin), "the server key reaches the host on stdin, as a secret");
        assert.ok(g.values.dockerTlsSecret, "the client material is a secret output");
    });

    it("gives Consul TLS from its own CA: server.<dc>.consul certificates, delivered with the config on stdin", () => {
        const leaves = g.regs.filter((r) => r.type === "command:local:Command" && r.name.startsWith("consul-tls-")).map((r) => r.name).sort();
        assert.deepEqual(leaves, ["consul-tls-agent-consul01", "consul-tls-agent-consul02", "consul-tls-agent-consulsvr", "consul-tls-ca"]);
        assert.match(String(need("consul-tls-agent-consul01").inputs.create), /CN='server.dc1.consul'/);
        assert.match(String(need("consul-tls-agent-consul01").inputs.create), /SAN='DNS:server.dc1.consul,DNS:localhost,IP:10.0.0.2,IP:127.0.0.1'/);
        assert.ok(g.values.consulCaCert?.includes("BEGIN CERTIFICATE"));
        assert.equal(g.values.consulHttpsAddr, "https://10.0.0.1:8501");
    });

    it("says when each certificate expires and is due; with nothing recorded, no certificate is renewed", () => {
        const x = new crypto.X509Certificate(MOCK_PEM.cert);
        const expiry = new Date(x.validTo).toISOString();
        const names = ["consul:ca", "consul:agent-consulsvr", "consul:agent-consul01", "consul:agent-consul02", "docker:ca", "docker:client"];
        for (const n of names) {
            assert.equal(g.values.certificateExpiry[n], expiry, n);
        }
        assert.equal(g.values.certificateExpirySecret, false, "expiry dates are public");
        assert.ok(!("consul:ca" in g.values.certificateRenewal), "a CA is not renewed by the stack");
        // Due once a third of the validity asked for (365 days) is left.
        const to = Date.parse(x.validTo);
        assert.deepEqual(g.values.certificateRenewal["consul:agent-consul01"], { due: new Date(to - 10512000_000).toISOString(), round: 0 });
        const leaf = need("consul-tls-agent-consul01");
        assert.equal(leaf.inputs.triggers, undefined, "round 0: no trigger, as a certificate made before renewals existed");
        assert.match(String(leaf.inputs.create), /VALID_SECONDS='31536000'/);
        assert.match(String(leaf.inputs.create), /RENEW_SECONDS='10512000'/);
    });

    it("turns ACLs on with the stack's own token, a secret that reaches hosts on stdin only", () => {
        assert.ok(g.values.aclTokenSecret, "aclBootstrapToken is a secret output");
        assert.match(String(g.values.aclToken), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        for (const name of ["swarm-init-consulsvr", "swarm-join-consul01"]) {
            assert.match(String(need(name).inputs.create), /ACL='yes'/);
            assert.ok(isSecretValue(need(name).inputs.stdin), `${name}: the token is a secret stdin`);
        }
        for (const r of g.regs) {
            assert.ok(!JSON.stringify(r.inputs.create ?? "").includes(String(g.values.aclToken)), `${r.name}: ACL token in a command line`);
        }
        assert.match(String(need("consul-verify").inputs.create), /TOKEN_FILE='\/var\/lib\/consul-swarm\/consul\/token'/);
        assert.ok(isSecretValue(need("consul-acl-agent").inputs.stdin), "the agents' token reaches the seed on stdin, as a secret");
        assert.match(String(need("consul-acl-agent").inputs.create), /node_prefix "" \{ policy = "write" \}/);
    });

    it("hands the transition judge the cluster the config asks for", () => {
        assert.deepEqual(need("cluster-transition").inputs.shape, {
            datacenter: "dc1",
            consulTls: true,
            consulAcl: true,
            consulVersion: "1.14.11",
            servers: { consulsvr: "10.0.0.1", consul01: "10.0.0.2", consul02: "10.0.0.3" },
            swarmManagers: { consulsvr: "10.0.0.1" },
            swarmWorkers: { consul01: "10.0.0.2", consul02: "10.0.0.3" },
            firstSwarmManager: "consulsvr",
            hosts: { consulsvr: "10.0.0.1", consul01: "10.0.0.2", consul02: "10.0.0.3" },
        });
    });

    it("re-runs commands through triggers only for the inputs that need it", () => {
        assert.deepEqual(need("consulsvr-facts").inputs.triggers, ["10.0.0.1"]);
        assert.deepEqual(need("consul01-consul-service").inputs.triggers, ["10.0.0.2"], "only a new machine replaces; config changes update in place");
        // No `update` script: upstream runs `create` again on an update, and state holds the script once.
        assert.equal(need("consul01-consul-service").inputs.update, undefined);
        assert.equal(need("consul01-docker-config").inputs.update, undefined);
    });

    it("a release zip by URL: hosts check the download against its checksum and the executable against its own identity", () => {
        const install = plain(need("consul01-consul-install").inputs.create);
        assert.match(install, new RegExp(`^SHA256='${MOCK_RELEASE.zipSha256}'$`, "m"), "the download's checksum, as SHA256SUMS lists it");
        assert.match(install, new RegExp(`^BINARY_SHA='${MOCK_RELEASE.binarySha256}'$`, "m"), "the executable's identity, read from the release");
        assert.match(plain(need("consul01-consul-service").inputs.create), new RegExp(`BINARY_SHA='${MOCK_RELEASE.binarySha256}'`), "the service step checks the executable");
        assert.doesNotMatch(plain(need("consul01-consul-service").inputs.create), new RegExp(MOCK_RELEASE.zipSha256), "never the zip's checksum");
        assert.match(plain(need("consul-snapshot-save").inputs.create), new RegExp(`BINARY_SHA='${MOCK_RELEASE.binarySha256}'`));
    });

    it("replaces a host's steps only for a new machine, deleting the old step first", () => {
        const remote = g.regs.filter((x) => x.type === "command:remote:Command" && x.inputs.delete !== undefined);
        // The manager's side of a swarm membership is never replaced: a rebuilt node keeps it.
        const members = remote.filter((r) => r.name.startsWith("swarm-member-"));
        assert.deepEqual(members.map((r) => r.name).sort(), ["swarm-member-consul01", "swarm-member-consul02"]);
        for (const r of members) {
            assert.equal(r.inputs.triggers, undefined, `${r.name}: no triggers`);
            assert.match(String(r.inputs.delete), /docker node update --availability drain/);
        }
        for (const r of remote.filter((x) => !members.includes(x))) {
            assert.ok(r.deleteBeforeReplace, `${r.name}: its delete must run before its successor's create`);
            const triggers = JSON.stringify(r.inputs.triggers);
            assert.match(triggers, /10\.0\.0\.\d/, `${r.name}: the machine's identity is in its triggers`);
        }
    });

    it("exports the outputs other stacks read", () => {
        assert.equal(g.values.leader, "consulsvr");
        assert.equal(g.values.uiUrl, "http://10.0.0.1:8500/ui/");
        assert.deepEqual(g.values.dockerHosts, {
            consulsvr: "tcp://10.0.0.1:2376",
            consul01: "tcp://10.0.0.2:2376",
            consul02: "tcp://10.0.0.3:2376",
        });
        assert.equal(g.values.swarmManager, "tcp://10.0.0.1:2376");
        assert.equal(g.values.swarmNodes?.length, 2);
    });
});

describe("certificates due by what the last up recorded", () => {
    let g: Awaited<ReturnType<typeof build>>;
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3600_000).toISOString();
    before(async () => {
        g = await build(tutorial, {}, undefined, {
            appliedCertificates: {
                "consul:agent-consul01": { due: past, round: 2 },
                "consul:agent-consul02": { due: future, round: 1 },
                "docker:client": { due: past, round: 0 },
                "docker:server-consulsvr": { due: future, round: 0 },
            },
        });
    });
    it("issues anew exactly the certificates past their due time (a new round as the trigger), keeping the others' steps as they were", () => {
        const triggers = (name: string) => g.byName.get(name)?.inputs.triggers;
        assert.deepEqual(triggers("consul-tls-agent-consul01"), [3], "due: the next round");
        assert.deepEqual(triggers("consul-tls-agent-consul02"), [1], "not due: the round it has");
        assert.equal(triggers("consul-tls-agent-consulsvr"), undefined, "nothing recorded: round 0");
        assert.deepEqual(triggers("docker-tls-client"), [1]);
        assert.equal(triggers("docker-tls-server-consulsvr"), undefined);
        assert.equal(triggers("consul-tls-ca"), undefined, "a CA is not renewed this way");
        assert.equal(g.values.certificateRenewal["consul:agent-consul01"].round, 3);
        assert.equal(g.values.certificateRenewal["docker:server-consul01"].round, 0);
    });
});

describe("a secondary datacenter (WAN federation with another stack's cluster)", () => {
    const primary = {
        primary: { datacenter: "dc1", servers: { one: "10.9.0.1", two: "10.9.0.2", three: "10.9.0.3" }, version: "1.14.11" },
        gossipKey: pulumi.secret("PRIMARY-GOSSIP-KEY"),
        managementToken: pulumi.secret("PRIMARY-MANAGEMENT-TOKEN"),
        consulCa: pulumi.secret({ cert: MOCK_PEM.cert, key: "PRIMARY-CA-KEY\n" }),
    };
    let g: Awaited<ReturnType<typeof build>>;
    before(async () => {
        g = await build({ ...tutorial, datacenter: "dc2", federation: { primaryStack: "dc1" } }, {}, primary);
    });
    const need = (name: string) => {
        const r = g.byName.get(name);
        assert.ok(r, `no resource ${name}`);
        return r!;
    };

    it("makes no gossip key, management token or CA of its own: the primary's, as secrets; a replication token", () => {
        for (const mine of ["gossip-key", "consul-acl-token", "consul-tls-ca"]) {
            assert.equal(g.byName.get(mine), undefined, `${mine} is the primary's`);
        }
        assert.ok(need("consul-replication-token"));
        assert.equal(g.values.aclToken, undefined, "the primary's management token is not exported again");
        assert.equal(g.outputs.consulCaKey, undefined, "nor its CA's key");
        assert.ok(g.values.gossipKeySecret);
        // Its certificates are issued by the primary's CA (on stdin, a secret).
        const leaf = need("consul-tls-agent-consul01");
        assert.ok(isSecretValue(leaf.inputs.stdin));
        assert.equal(plain(leaf.inputs.stdin), `${MOCK_PEM.cert}PRIMARY-CA-KEY\n`);
        assert.match(String(leaf.inputs.create), /CN='server.dc2.consul'/);
    });

    it("joins the WAN after the LAN and before its ACL step, whose policies and tokens go to the primary", () => {
        const wan = need("consul-wan");
        assert.equal(wan.type, "consul-swarm:consul:WanFederation");
        assert.deepEqual(
            { ...wan.inputs },
            { datacenter: "dc2", primaryDatacenter: "dc1", version: "1.14.11", primaryVersion: "1.14.11", tls: true },
        );
        const join = need("consul-wan-join");
        assert.ok(join.deps.includes("consul-join"), `wan join after the LAN join: ${join.deps}`);
        assert.match(String(join.inputs.create), /EXPECTED_WAN_MEMBERS='one\.dc1 three\.dc1 two\.dc1 consul01\.dc2 consul02\.dc2 consulsvr\.dc2'/);
        assert.match(String(join.inputs.create), /PRIMARY_ADDRESSES='10\.9\.0\.1 10\.9\.0\.3 10\.9\.0\.2'/);
        assert.match(JSON.stringify(join.inputs.triggers), /10\.9\.0\.1/, "a change of the primary's servers joins again");
        const acl = need("consul-acl-agent");
        assert.ok(acl.deps.includes("consul-wan-join"), `ACL step after the WAN join: ${acl.deps}`);
        const script = String(acl.inputs.create);
        assert.match(script, /ACL_DC='dc1'/);
        assert.match(script, /POLICY='consul-swarm-agent-dc2'/);
        assert.match(script, /SWARM_POLICY='consul-swarm-swarm-dc2'/);
        assert.match(script, /REPLICATION_POLICY='consul-swarm-replication-dc2'/);
        assert.ok(isSecretValue(acl.inputs.stdin));
        assert.equal(plain(acl.inputs.stdin).split("\n").filter((l) => l !== "").length, 4, "agent, swarm managers', replication and swarm workers' tokens on stdin");
        assert.match(String(need("consul-verify").inputs.create), /ACL_REPLICATION='yes'/);
    });

    it("takes its policies and tokens out of the primary when it goes, after its swarm, and never on a change", () => {
        const release = need("consul-acl-release");
        assert.equal(release.inputs.create, undefined, "nothing to do on create");
        assert.equal(release.inputs.triggers, undefined, "never replaced (a replacement would delete the tokens in use)");
        assert.match(String(release.inputs.delete), /POLICIES='consul-swarm-agent-dc2 consul-swarm-swarm-dc2 consul-swarm-swarm-worker-dc2 consul-swarm-replication-dc2'/);
        assert.match(String(release.inputs.delete), /ACL_DC='dc1'/);
        assert.ok(release.deps.includes("consul-acl-agent"));
        assert.ok(need("swarm-init-consulsvr").deps.includes("consul-acl-release"), "the swarm goes first on destroy");
    });

    it("renders primary_datacenter on every agent, and on servers the WAN join and the replication token, on stdin only", () => {
        const stdin = plain(need("consul01-consul-service").inputs.stdin);
        const config = JSON.parse(stdin.slice(stdin.indexOf("{")));
        assert.equal(config.primary_datacenter, "dc1");
        assert.equal(config.encrypt, "PRIMARY-GOSSIP-KEY");
        assert.deepEqual(config.retry_join_wan, ["10.9.0.1", "10.9.0.2", "10.9.0.3"]);
        assert.equal(config.acl.enable_token_replication, true);
        assert.match(config.acl.tokens.replication, /^[0-9a-f-]{36}$/);
        assert.ok(isSecretValue(need("consul01-consul-service").inputs.stdin));
    });
});

describe("three swarm managers", () => {
    it("their daemons take turns, the first manager last", async () => {
        const hosts = (tutorial.hosts as any[]).map((h) => ({ ...h, roles: ["consul-server", "swarm-manager"] }));
        const g = await build({ ...tutorial, hosts });
        const deps = (n: string) => g.byName.get(n)!.deps;
        assert.ok(deps("consul02-docker-restart").includes("consul01-docker-restart"), JSON.stringify(deps("consul02-docker-restart")));
        assert.ok(deps("consulsvr-docker-restart").includes("consul02-docker-restart"), JSON.stringify(deps("consulsvr-docker-restart")));
        assert.ok(!deps("consul01-docker-restart").some((d) => d.endsWith("-docker-restart")), "the first in turn waits for no other");
    });
});

describe("a user other than root", () => {
    it("runs every remote script through sudo -n, its stdin passed through; root's scripts stay as they are", async () => {
        const g = await build({ ...tutorial, ssh: { user: "ops" } });
        const remote = g.regs.filter((r) => r.type === "command:remote:Command");
        assert.ok(remote.length > 10);
        for (const r of remote) {
            for (const key of ["create", "delete"]) {
                const script = r.inputs[key];
                if (script !== undefined) {
                    assert.match(String(script), /^exec sudo -n -- sh -c 'PATH=\/usr\/local\/sbin:\/usr\/local\/bin:\$PATH; export PATH\n#!\/bin\/sh\n/, `${r.name}.${key}`);
                }
            }
        }
        const root = await build(tutorial);
        assert.ok(root.regs.filter((r) => r.type === "command:remote:Command").every((r) => String(r.inputs.create).startsWith("#!/bin/sh\n")));
    });
});

describe("one host's Docker API on its own address", () => {
    it("changes only that host's Docker steps", async () => {
        const hosts = (tutorial.hosts as any[]).map((h) => (h.name === "consul01" ? { ...h, docker: { bindAddress: h.address } } : h));
        const g = await build({ ...tutorial, hosts });
        const base = await build(tutorial);
        const changed = [...g.byName.keys()].filter((n) => JSON.stringify(g.byName.get(n)!.inputs) !== JSON.stringify(base.byName.get(n)?.inputs));
        assert.deepEqual(changed.sort(), ["consul01-docker", "consul01-docker-config", "consul01-docker-restart"]);
        assert.match(String(g.byName.get("consul01-docker-config")!.inputs.create), /tcp:\/\/10\.0\.0\.2:2376/);
        assert.match(String(g.byName.get("consulsvr-docker-config")!.inputs.create), /tcp:\/\/0\.0\.0\.0:2376/);
    });
});

describe("expect mode and clients", () => {
    it("gives every server bootstrap_expect and no server bootstrap", async () => {
        const hosts = (tutorial.hosts as any[]).map((h, i) => ({ ...h, name: `e${i}`, address: `10.0.1.${i + 1}`, bootstrap: false }));
        hosts.push({ name: "e-client", address: "10.0.1.9", roles: ["consul-client"] });
        const g = await build({ ...tutorial, hosts, consul: { ...(tutorial.consul as object), bootstrapMode: "expect" } });
        const services = g.regs.filter((r) => r.type === "command:remote:Command" && /^e\d-consul-service$/.test(r.name));
        assert.equal(services.length, 3);
        for (const s of services) {
            assert.match(String(s.inputs.create), /BOOTSTRAP_JSON=''/);
            // In a file of its own that only a first start reads: a new server count restarts nothing.
            assert.match(String(s.inputs.create), /BOOTSTRAP_EXPECT_JSON='\{"bootstrap_expect":3\}\n'/);
            assert.doesNotMatch(plain(s.inputs.stdin), /bootstrap_expect/, "not in consul.json");
        }
        assert.equal(g.regs.filter((r) => r.type === "consul-swarm:consul:ConsulClient").length, 1);
        assert.match(String(g.byName.get("consul-verify")?.inputs.create), /EXPECTED_NODES='e0 e1 e2 e-client'/);
        assert.match(String(g.byName.get("consul-verify")?.inputs.create), /EXPECTED_SERVER_NODES='e0 e1 e2'/);
    });
});

describe("the dev stack on lab hosts", () => {
    it("creates a network, one container and volume per host, and copies the toolchain's consul", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-unit-"));
        fs.writeFileSync(path.join(dir, "consul-1.14.11"), "not really consul");
        const hosts = (tutorial.hosts as any[]).map((h, i) => ({ ...h, name: `lab${i}`, address: `10.213.0.${111 + i}` }));
        const g = await build({ hosts, lab: { subnet: "10.213.0.0/24" }, hasPrivateKey: false }, { CONSUL_SWARM_TOOLBIN: dir });
        const of = (t: string) => g.regs.filter((r) => r.type === t);
        assert.equal(of("docker:index/network:Network").length, 1);
        assert.deepEqual(of("docker:index/network:Network")[0].inputs.ipamConfigs, [{ subnet: "10.213.0.0/24", gateway: "10.213.0.1" }]);
        const containers = of("docker:index/container:Container");
        assert.equal(containers.length, 3);
        // Known by its address (a rename replaces the container in place), aliased to the old name.
        const c = containers.find((r) => r.name === "lab-host-10-213-0-111")!;
        assert.equal(c.inputs.hostname, "lab0");
        assert.deepEqual((c.inputs.networksAdvanced as any[])[0].ipv4Address, "10.213.0.111");
        assert.ok(!("privileged" in c.inputs) || c.inputs.privileged === false, "lab hosts are not --privileged");
        assert.ok(!((c.inputs.capabilities as any).adds as string[]).includes("SYS_RESOURCE"));
        assert.equal(of("docker:index/volume:Volume").length, 3);
        assert.equal(of("command:remote:CopyToRemote").length, 3);
        // The hosts wait for their container; the rest of the stack sees only an address and a key.
        assert.ok(g.byName.get("lab0-facts")!.deps.includes("lab-host-10-213-0-111"));
        // The container's id is the machine's identity: a new container sets the host up again.
        assert.deepEqual(g.byName.get("lab0-consul-service")!.inputs.triggers, ["lab-host-10-213-0-111-id"]);
        assert.ok(isSecretValue(g.byName.get("lab0-facts")!.inputs.connection));
    });
});
