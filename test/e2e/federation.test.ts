// Two datacenters (the tutorial's first part: LAN gossip inside each, WAN gossip between their
// servers): dc1 is a stack of its own, dc2 another that reads dc1's outputs through a
// StackReference and joins it over the WAN. Each runs its own lab on its own subnet, with routes
// (no NAT) between the two.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as dns from "node:dns/promises";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { EngineEvent, LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { changed, discardLab, eventually, log } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const DC1 = {
    stack: "e2e-dc1",
    network: "consul-swarm-e2e-dc1",
    subnet: "10.226.0.0/24",
    hosts: [
        { name: "consulsvr", address: "10.226.0.111", roles: ["consul-server"], bootstrap: true },
        { name: "consul01", address: "10.226.0.112", roles: ["consul-server"] },
        { name: "consul02", address: "10.226.0.113", roles: ["consul-server"] },
    ],
};
const DC2 = {
    stack: "e2e-dc2",
    network: "consul-swarm-e2e-dc2",
    subnet: "10.227.0.0/24",
    hosts: [{ name: "dc2svr", address: "10.227.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true }],
};
const CONSUL = { version: "1.14.11", install: { source: "toolchain" } };
const dc1Api = `http://${DC1.hosts[0].address}:8500`;
const dc2Api = `http://${DC2.hosts[0].address}:8500`;

async function http(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
}

function consul(network: string, host: string, args: string): string {
    return execFileSync("docker", ["exec", `${network}-${host}`, "sh", "-c", `CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul ${args}`], {
        encoding: "utf8",
    });
}

/** `consul members -wan` on dc1's first server: name → status. */
function wanMembers(): Record<string, string> {
    const rows = consul(DC1.network, DC1.hosts[0].name, "members -wan").trim().split("\n").slice(1);
    return Object.fromEntries(rows.map((r) => r.split(/\s+/)).map((c) => [c[0], c[2]]));
}

describe("two datacenters: dc2 joins dc1 over the WAN through dc1's stack outputs", { timeout: 30 * 60 * 1000 }, () => {
    let dc1: Stack;
    let dc2: Stack | undefined;
    let dc1Outputs: OutputMap;
    let dc2Outputs: OutputMap;
    let token = "";
    let tokensBeforeDc2 = 0;
    let dc2TokenDescriptions: string[] = [];
    const as = (t: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { "X-Consul-Token": t } });

    before(async () => {
        dc1 = await LocalWorkspace.createOrSelectStack({ stackName: DC1.stack, workDir: repo });
        await dc1.setAllConfig({
            "consul-swarm:lab": { value: JSON.stringify({ subnet: DC1.subnet, networkName: DC1.network }) },
            "consul-swarm:consul": { value: JSON.stringify(CONSUL) },
            "consul-swarm:hosts": { value: JSON.stringify(DC1.hosts) },
        });
        const up1 = await dc1.up({ onOutput: (o) => process.stderr.write(o) });
        dc1Outputs = up1.outputs;
        token = String(up1.outputs.aclBootstrapToken.value);
        for (let i = 0; i < 20; i++) {
            assert.equal((await http(`${dc1Api}/v1/kv/fed/${i}`, as(token, { method: "PUT", body: String(i) }))).body.trim(), "true");
        }
        tokensBeforeDc2 = (JSON.parse((await http(`${dc1Api}/v1/acl/tokens`, as(token))).body) as unknown[]).length;
        dc2 = await LocalWorkspace.createOrSelectStack({ stackName: DC2.stack, workDir: repo });
        await dc2.setAllConfig({
            "consul-swarm:datacenter": { value: "dc2" },
            "consul-swarm:federation": { value: JSON.stringify({ primaryStack: `organization/consul-swarm/${DC1.stack}` }) },
            "consul-swarm:lab": { value: JSON.stringify({ subnet: DC2.subnet, networkName: DC2.network, routeTo: [DC1.subnet] }) },
            "consul-swarm:consul": { value: JSON.stringify(CONSUL) },
            "consul-swarm:hosts": { value: JSON.stringify(DC2.hosts) },
        });
        const t0 = Date.now();
        const up2 = await dc2.up({ onOutput: (o) => process.stderr.write(o) });
        log(`dc2 cold up beside dc1: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${JSON.stringify(up2.summary.resourceChanges)}`);
        dc2Outputs = up2.outputs;
        dc2TokenDescriptions = (JSON.parse((await http(`${dc1Api}/v1/acl/tokens`, as(token))).body) as { Description: string }[])
            .map((t) => t.Description)
            .filter((d) => /dc2/.test(d))
            .sort();
        log(`dc2's tokens, made in dc1: ${JSON.stringify(dc2TokenDescriptions)}`);
    });

    after(async () => {
        if (dc2) {
            await dc2.destroy({ onOutput: (o) => process.stderr.write(o) });
            await dc2.workspace.removeStack(DC2.stack);
        }
        if (dc1) {
            // What a destroy does is checked on dc2 (a test of its own); dc1 is only discarded.
            await discardLab(dc1, DC1.network);
        }
    });

    it("consul members -wan shows every server of both datacenters alive; dc2's outputs name both datacenters", () => {
        assert.deepEqual(wanMembers(), {
            "consul01.dc1": "alive",
            "consul02.dc1": "alive",
            "consulsvr.dc1": "alive",
            "dc2svr.dc2": "alive",
        });
        assert.deepEqual(dc2Outputs.consulDatacenters.value, ["dc1", "dc2"]);
        assert.equal(dc2Outputs.consulPrimaryDatacenter.value, "dc1");
        assert.equal(dc2Outputs.datacenter.value, "dc2");
        // The shared secrets stay secrets in dc2's outputs.
        // dc1's management token and CA key are not exported again by dc2.
        assert.equal(dc2Outputs.aclBootstrapToken?.value ?? null, null);
        assert.equal(dc2Outputs.consulCaKey?.value ?? null, null);
        for (const k of ["gossipKey"]) {
            assert.equal(dc2Outputs[k].secret, true, `${k} is a secret`);
        }
        // dc2's agent certificate comes from dc1's CA, and says so.
        assert.equal(dc2Outputs.consulCaCert.value, dc1Outputs.consulCaCert.value);
        const issuer = execFileSync("docker", ["exec", `${DC2.network}-dc2svr`, "openssl", "x509", "-noout", "-subject", "-issuer", "-in", "/etc/consul.d/tls/cert.pem"], { encoding: "utf8" });
        assert.match(issuer, /subject=CN ?= ?server\.dc2\.consul/);
        assert.match(issuer, /issuer=CN ?= ?consul-swarm Consul CA/);
    });

    it("dc1's secrets stay secrets in dc2's state: the gossip key, the management token and the CA's key only encrypted", () => {
        // The CLI's own export (the Automation API's exportStack adds --show-secrets).
        const state = execFileSync("pulumi", ["stack", "export", "--stack", DC2.stack, "--cwd", repo], { encoding: "utf8", maxBuffer: 256 << 20 });
        const caKeyBody = String(dc1Outputs.consulCaKey.value).split("\n")[1];
        assert.ok(caKeyBody.length > 20, "dc1 exports its CA's key (a secret)");
        for (const [what, plain] of [
            ["the gossip key", String(dc1Outputs.gossipKey.value)],
            ["the management token", token],
            ["the CA's key", caKeyBody],
        ]) {
            assert.ok(!state.includes(plain), `${what} is not in dc2's state in plain text`);
        }
        assert.match(state, /"ciphertext"/, "secrets are there, encrypted");
    });

    it("a KV write in dc1 is read from a dc2 server with ?dc=dc1", async () => {
        assert.equal((await http(`${dc1Api}/v1/kv/fed/written-in-dc1`, as(token, { method: "PUT", body: "from dc1" }))).body.trim(), "true");
        assert.equal((await http(`${dc2Api}/v1/kv/fed/written-in-dc1?raw&dc=dc1`, as(token))).body, "from dc1");
        const keys = JSON.parse((await http(`${dc2Api}/v1/kv/fed/?keys&dc=dc1`, as(token))).body) as string[];
        assert.equal(keys.length, 21, "every key of dc1, read through dc2");
        // dc2's own KV is its own: the key is not there.
        assert.equal((await http(`${dc2Api}/v1/kv/fed/written-in-dc1?raw`, as(token))).status, 404);
    });

    it("a service registered in dc2 is found from dc1 through the catalog (?dc=dc2) and through DNS (web.service.dc2.consul)", async () => {
        const svc = { Name: "web", Port: 8080, Address: DC2.hosts[0].address };
        assert.equal((await http(`${dc2Api}/v1/agent/service/register`, as(token, { method: "PUT", body: JSON.stringify(svc) }))).status, 200);
        await eventually("web in dc2's catalog, read from dc1", 30, async () => {
            const found = JSON.parse((await http(`${dc1Api}/v1/catalog/service/web?dc=dc2`, as(token))).body) as { ServiceAddress: string; Datacenter: string }[];
            assert.deepEqual(found.map((s) => `${s.Datacenter} ${s.ServiceAddress}`), [`dc2 ${DC2.hosts[0].address}`], JSON.stringify(found));
        });
        const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
        resolver.setServers([`${DC1.hosts[0].address}:8600`]);
        await eventually("web.service.dc2.consul from dc1's DNS", 30, async () => {
            assert.deepEqual(await resolver.resolve4("web.service.dc2.consul"), [DC2.hosts[0].address], "dc1's DNS answers with dc2's service");
        });
    });

    it("an ACL token created in dc1 works in dc2 (replication)", async () => {
        const policy = { Name: "e2e-fed-reader", Rules: 'key_prefix "fed/" { policy = "read" }' };
        assert.equal((await http(`${dc1Api}/v1/acl/policy`, as(token, { method: "PUT", body: JSON.stringify(policy) }))).status, 200);
        const made = JSON.parse((await http(`${dc1Api}/v1/acl/token`, as(token, { method: "PUT", body: JSON.stringify({ Policies: [{ Name: policy.Name }] }) }))).body) as { SecretID: string };
        assert.equal((await http(`${dc2Api}/v1/kv/fed/dc2-own`, as(token, { method: "PUT", body: "dc2" }))).body.trim(), "true");
        await eventually("dc1's new token reads dc2's KV", 30, async () => {
            const r = await http(`${dc2Api}/v1/kv/fed/dc2-own?raw`, as(made.SecretID));
            assert.equal(`${r.status} ${r.body}`, "200 dc2", "the token works in dc2");
        });
        // Served from dc2's own copy: the replication status says tokens are replicated.
        const status = JSON.parse((await http(`${dc2Api}/v1/acl/replication`, as(token))).body) as { Enabled: boolean; Running: boolean; ReplicationType: string; SourceDatacenter: string };
        assert.deepEqual([status.Enabled, status.Running, status.ReplicationType, status.SourceDatacenter], [true, true, "tokens", "dc1"]);
        // Denied where its policy does not reach.
        assert.equal((await http(`${dc2Api}/v1/kv/other?raw`, as(made.SecretID))).status, 403);
    });

    it("the policy pack passes dc2's preview, and refuses dc2 on another Consul minor than dc1's", async () => {
        const policyPreview = async () => {
            const events: string[] = [];
            const onEvent = (e: EngineEvent) => {
                if (e.policyEvent) {
                    events.push(`${e.policyEvent.policyName} ${e.policyEvent.enforcementLevel}: ${e.policyEvent.message}`);
                }
            };
            try {
                await dc2!.preview({ policyPacks: [path.join(repo, "policy")], onEvent, color: "never" });
                return { ok: true, events };
            } catch {
                return { ok: false, events };
            }
        };
        const clean = await policyPreview();
        assert.ok(clean.ok, `dc2 passes the pack: ${clean.events.join(" | ")}`);
        assert.ok(!clean.events.some((e) => e.startsWith("consul-federation")), clean.events.join(" | "));
        // 1.15.2 by URL (preview only: with the executable's identity given, nothing is downloaded or
        // run). One minor up, which dc2's own transition allows: what refuses it is dc1's minor.
        const other = {
            version: "1.15.2",
            install: { url: "https://releases.hashicorp.com/consul/1.15.2/consul_1.15.2_linux_amd64.zip", sha256: "a".repeat(64), binarySha256: "e".repeat(64) },
        };
        await dc2!.setConfig("consul-swarm:consul", { value: JSON.stringify(other) });
        try {
            const refused = await policyPreview();
            assert.equal(refused.ok, false, "the preview fails");
            const hit = refused.events.find((e) => e.startsWith("consul-federation mandatory"));
            assert.ok(hit, `consul-federation reported: ${refused.events.join(" | ")}`);
            assert.match(hit!, /more than one Consul minor version: the primary dc1 1\.14\.11, datacenter dc2 1\.15\.2/);
        } finally {
            await dc2!.setConfig("consul-swarm:consul", { value: JSON.stringify(CONSUL) });
        }
    });

    it("a second up of dc2 changes nothing; dc1's up changes nothing", async () => {
        assert.deepEqual(changed(await dc2!.up()), {}, "dc2");
        assert.deepEqual(changed(await dc1.up()), {}, "dc1");
    });

    it("destroying dc2 leaves dc1 healthy: no failed WAN member, a leader, 3 voters, every key", async () => {
        await dc2!.destroy({ onOutput: (o) => process.stderr.write(o) });
        await dc2!.workspace.removeStack(DC2.stack);
        dc2 = undefined;
        const members = wanMembers();
        log(`dc1's WAN pool after dc2's destroy: ${JSON.stringify(members)}`);
        assert.ok(!Object.values(members).includes("failed"), `no failed WAN member: ${JSON.stringify(members)}`);
        for (const n of ["consulsvr.dc1", "consul01.dc1", "consul02.dc1"]) {
            assert.equal(members[n], "alive", `${n} alive`);
        }
        const health = JSON.parse((await http(`${dc1Api}/v1/operator/autopilot/health`, as(token))).body) as { Healthy: boolean; Servers: { Voter: boolean }[] };
        assert.equal(health.Healthy, true);
        assert.equal(health.Servers.filter((s) => s.Voter).length, 3);
        assert.equal(JSON.parse((await http(`${dc1Api}/v1/kv/fed/?keys`, as(token))).body).length, 21);
        // dc2's policies and tokens (made in dc1: ACLs are global) went with it; dc1's own stay.
        const policies = (JSON.parse((await http(`${dc1Api}/v1/acl/policies`, as(token))).body) as { Name: string }[]).map((p) => p.Name).sort();
        assert.deepEqual(policies.filter((n) => n.endsWith("-dc2")), [], `no dc2 policy left: ${policies}`);
        for (const mine of ["consul-swarm-agent", "consul-swarm-dns", "e2e-fed-reader", "global-management"]) {
            assert.ok(policies.includes(mine), `${mine} stays: ${policies}`);
        }
        const tokens = JSON.parse((await http(`${dc1Api}/v1/acl/tokens`, as(token))).body) as { Description: string }[];
        assert.deepEqual(tokens.map((t) => t.Description).filter((d) => /dc2/.test(d)), [], "no dc2 token left");
        assert.ok(dc2TokenDescriptions.length >= 3, `dc2 had its own tokens in dc1: ${dc2TokenDescriptions}`);
        assert.equal(tokens.length, tokensBeforeDc2 + 1, "dc1's tokens, and the one this test made");
        // The routes between the two labs went with dc2's lab.
        const rules = execFileSync("iptables", ["-S", "DOCKER-USER"], { encoding: "utf8" });
        assert.doesNotMatch(rules, new RegExp(DC2.subnet.replace(/\./g, "\\.")), "no route left to dc2's subnet");
    });
});
