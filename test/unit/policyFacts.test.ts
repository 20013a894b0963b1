// The contract between the components and the policy pack (policy/): every component registers, as
// its inputs (what resource rules see) and among its outputs (what stack rules see), exactly the
// facts that policy/facts.ts says the pack reads, under the type tokens the pack looks for.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { FACT_KEYS, TYPES } from "../../policy/facts";
import { RawConfig, resolveInstall, validateConfig } from "../../components/config";
import { MOCK_PEM, recordingMocks, Registration, SECRET_SIG, settled } from "./recordingMocks";

let registered: Registration[] = [];

before(async () => {
    registered = await recordingMocks("policy-facts");
});

async function build(raw: RawConfig, env: NodeJS.ProcessEnv = {}, federation?: import("../../components/consulSwarm").ConsulSwarmFederation) {
    const { ConsulSwarm, consulSwarmArgs } = await import("../../components/consulSwarm");
    const { labFor } = await import("../../lab/hosts/labHosts");
    const res = validateConfig(raw);
    assert.deepEqual(res.errors, []);
    const install = resolveInstall(res.settings!.consul.install, env, fs.existsSync, res.settings!.consul.version);
    new ConsulSwarm("test", { ...consulSwarmArgs(res.settings!, install, pulumi.secret("KEY"), labFor(res.settings!)), federation });
    await settled(registered);
}

const hosts = [
    { name: "consulsvr", address: "10.0.0.1", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.0.0.2", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "10.0.0.3", roles: ["consul-server", "swarm-agent"] },
    { name: "client", address: "10.0.0.4", roles: ["consul-client"] },
];

/** Facts that a component may leave out: bootstrap_expect exists only in expect mode, on servers. */
const OPTIONAL = new Set(["bootstrapExpect"]);

describe("the facts the policy pack reads", () => {
    before(async () => {
        await build({ hosts, consul: { install: { url: "https://releases.example/consul_1.14.11.zip", sha256: "b".repeat(64) } }, hasPrivateKey: true });
        await build({
            hosts: hosts.map((h) => ({ ...h, name: `x${h.name}`, address: h.address.replace("10.0.0", "10.0.1"), bootstrap: false })),
            consul: { install: { url: "https://releases.example/consul_1.14.11.zip", sha256: "b".repeat(64) }, bootstrapMode: "expect" },
            hasPrivateKey: true,
        });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-policy-facts-"));
        fs.writeFileSync(path.join(dir, "consul-1.14.11"), "not really consul");
        await build(
            { hosts: hosts.map((h) => ({ ...h, name: `lab${h.name}`, address: h.address.replace("10.0.0", "10.213.0") })), lab: { subnet: "10.213.0.0/24" }, hasPrivateKey: false },
            { CONSUL_SWARM_TOOLBIN: dir },
        );
        // A secondary datacenter (its WanFederation).
        await build(
            {
                datacenter: "dc2",
                federation: { primaryStack: "dc1" },
                hosts: hosts.map((h) => ({ ...h, name: `f${h.name}`, address: h.address.replace("10.0.0", "10.0.2") })),
                consul: { install: { url: "https://releases.example/consul_1.14.11.zip", sha256: "b".repeat(64) } },
                hasPrivateKey: true,
            },
            {},
            {
                primary: { datacenter: "dc1", servers: { a: "10.9.0.1" }, version: "1.14.11" },
                gossipKey: pulumi.secret("G"),
                managementToken: pulumi.secret("M"),
                consulCa: pulumi.secret({ cert: MOCK_PEM.cert, key: "K" }),
            },
        );
        // Outputs are registered last, after every child: wait for them as well.
        await new Promise((r) => setTimeout(r, 500));
    });

    it("uses the components' own type tokens", async () => {
        const { Host } = await import("../../components/host/host");
        const { DockerDaemon } = await import("../../components/docker/dockerDaemon");
        const { ConsulServer, ConsulClient } = await import("../../components/consul/consulAgent");
        const { ConsulCluster } = await import("../../components/consul/consulCluster");
        const { Swarm } = await import("../../components/swarm/swarm");
        const { LabHosts } = await import("../../lab/hosts/labHosts");
        const { WanFederation } = await import("../../components/consul/wanFederation");
        const { CertificateAuthority } = await import("../../components/tls/certificateAuthority");
        assert.deepEqual(
            [Host.type, DockerDaemon.type, ConsulServer.type, ConsulClient.type, ConsulCluster.type, WanFederation.type, Swarm.type, LabHosts.type, CertificateAuthority.type],
            [TYPES.host, TYPES.dockerDaemon, TYPES.consulServer, TYPES.consulClient, TYPES.consulCluster, TYPES.wanFederation, TYPES.swarm, TYPES.labHosts, TYPES.certificateAuthority],
        );
    });

    for (const [type, keys] of Object.entries(FACT_KEYS)) {
        it(`${type} registers exactly its facts as inputs, and among its outputs`, () => {
            const all = registered.filter((r) => r.type === type);
            assert.ok(all.length > 0, `no ${type} was registered`);
            for (const r of all) {
                const inputs = Object.keys(r.inputs);
                assert.deepEqual(
                    inputs.filter((k) => !keys.includes(k)),
                    [],
                    `${r.name}: inputs the pack does not know (facts must stay few and non-secret)`,
                );
                assert.deepEqual(
                    keys.filter((k) => !OPTIONAL.has(k) && !inputs.includes(k)),
                    [],
                    `${r.name}: facts missing from its inputs`,
                );
                assert.ok(r.outputs, `${r.name}: registerOutputs was not seen`);
                assert.deepEqual(
                    inputs.filter((k) => !(k in r.outputs!)),
                    [],
                    `${r.name}: facts missing from its outputs`,
                );
            }
        });
    }

    it("registers bootstrapExpect on every server in expect mode", () => {
        const servers = registered.filter((r) => r.type === TYPES.consulServer && r.name.startsWith("x"));
        assert.equal(servers.length, 3);
        for (const s of servers) {
            assert.equal(s.inputs.bootstrapExpect, 3, s.name);
            assert.equal(s.inputs.bootstrap, false, s.name);
        }
    });

    it("never registers a secret as a fact", () => {
        const key = Buffer.alloc(32, 1).toString("base64");
        for (const r of registered) {
            if (!(r.type in FACT_KEYS)) {
                continue;
            }
            const text = JSON.stringify(r.inputs);
            assert.ok(!text.includes(key) && !text.includes("KEY\""), `${r.name}: a secret in its facts`);
            assert.ok(!text.includes(SECRET_SIG), `${r.name}: a secret-marked value in its facts`);
        }
    });
});
