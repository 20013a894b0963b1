// The tutorial's own, unprotected mode still works when a stack asks for it: Docker's API on plain
// TCP 2375, Consul without ACLs or TLS (gossip stays encrypted). The policy pack flags this mode
// outside dev stacks (test/e2e/policy.test.ts); here, on lab hosts, it runs.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { consulRpc, discardLab, explained, httpsGet, labTools, log, writeKeys } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const NETWORK = "consul-swarm-e2e-tutorial";
const CONSUL = { version: "1.14.11", install: { source: "toolchain" }, acl: false };
const HOSTS = [
    { name: "consulsvr", address: "10.217.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.217.0.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "10.217.0.113", roles: ["consul-server", "swarm-agent"] },
];

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.text() };
}

describe("the tutorial's unprotected mode, asked for explicitly", { timeout: 20 * 60 * 1000 }, () => {
    let stack: Stack;
    let outputs: OutputMap;

    before(async () => {
        stack = await LocalWorkspace.createOrSelectStack({ stackName: "e2e-tutorial", workDir: repo });
        await stack.setAllConfig({
            "consul-swarm:lab": { value: JSON.stringify({ subnet: "10.217.0.0/24", networkName: NETWORK }) },
            "consul-swarm:consul": { value: JSON.stringify({ ...CONSUL, tls: false }) },
            "consul-swarm:docker": { value: JSON.stringify({ tls: false }) },
            "consul-swarm:hosts": { value: JSON.stringify(HOSTS) },
        });
        let log = "";
        const up = await stack.up({ onOutput: (o) => (log += o) });
        outputs = up.outputs;
        assert.match(log, /docker\.tls: the Docker API listens on plain TCP 0\.0\.0\.0:2375 without TLS/, "the preview warns about plain TCP");
    });

    after(async () => {
        if (stack) {
            await discardLab(stack, NETWORK);
        }
    });

    it("forms the cluster: 3 alive servers, anonymous KV (no ACLs), no TLS outputs", async () => {
        const members = execFileSync("docker", ["exec", `${NETWORK}-consulsvr`, "consul", "members"], { encoding: "utf8" });
        assert.equal(members.trim().split("\n").slice(1).filter((l) => /\salive\s+server\s/.test(l)).length, 3);
        assert.equal((await get(`http://${HOSTS[1].address}:8500/v1/kv/e2e/tutorial`, { method: "PUT", body: "open" })).status, 200);
        assert.equal((await get(`http://${HOSTS[2].address}:8500/v1/kv/e2e/tutorial?raw`)).body, "open");
        assert.equal(outputs.aclBootstrapToken?.value ?? null, null);
        assert.equal(outputs.consulCaCert?.value ?? null, null);
        assert.equal(outputs.dockerTls?.value ?? null, null);
    });

    it("opens the Docker API on plain TCP 2375 (the tutorial's -H 0.0.0.0:2375), and the swarm has 3 nodes Ready", async () => {
        for (const h of HOSTS) {
            assert.equal((await get(`http://${h.address}:2375/_ping`)).body, "OK");
        }
        const nodes = JSON.parse((await get(`http://${HOSTS[0].address}:2375/nodes`)).body) as { Status: { State: string } }[];
        assert.deepEqual(
            nodes.map((n) => n.Status.State),
            ["ready", "ready", "ready"],
        );
        assert.equal(outputs.swarmManager.value, `tcp://${HOSTS[0].address}:2375`);
    });

    it("consul.tls and consul.acl switched on together on a running cluster, then off: 3 stages each way, one per up, each named in the preview and the up; TLS's flag-only stage reloaded (no restart, no election); 3 voters and every key throughout, plain RPC refused and anonymous reads denied only at the end", async () => {
        let token = "";
        const { http, onHost, withToken, kvReader, haltPollers } = labTools(NETWORK, () => token);
        await writeKeys(HOSTS[0].address, "e2e/tls", withToken);
        const reader = kvReader(HOSTS, "e2e/tls/999", "v");
        /** The RPC a server takes: plain, and TLS with an agent's certificate (none before stage 1). */
        const rpc = async (ca?: string, agent?: { cert: string; key: string }) =>
            Promise.all(HOSTS.map(async (h) => `${await consulRpc(h.address, "plain", { ca: "" })}/${ca && agent ? await consulRpc(h.address, "tls", { ca, ...agent }) : "-"}`));
        const pids = () => HOSTS.map((h) => onHost(h.name, "systemctl show -p MainPID --value consul").trim()).join(" ");
        const leader = async () => (await http(`http://${HOSTS[0].address}:8500/v1/status/leader`)).body;
        const walk = async (on: boolean) => {
            await stack.setConfig("consul-swarm:consul", { value: JSON.stringify({ ...CONSUL, tls: on, acl: on }) });
            for (let step = 1; step <= 3; step++) {
                const tlsStage = on ? step : 3 - step;
                const aclStage = on ? Math.min(step, 2) : Math.max(2 - step, 0);
                const notices = [new RegExp(`consul\\.tls ${!on} → ${on} on a running cluster goes in 3 rolling stages.*This up applies stage ${step} of 3`)];
                if (step <= 2) {
                    notices.push(new RegExp(`consul\\.acl ${!on} → ${on} on a running cluster goes in 2 rolling stages.*This up applies stage ${step} of 2`));
                }
                if (step === 1) {
                    let previewLog = "";
                    await stack.preview({ onOutput: (o) => (previewLog += o) });
                    notices.forEach((n) => assert.match(previewLog, n, "the preview says which stage the up applies"));
                }
                // TLS from stage 2 to 3 changes only the RPC flags (ACLs are done by then): each agent reloads them.
                const reloadOnly = on && step === 3;
                const [pidsBefore, leaderBefore] = [pids(), await leader()];
                let upLog = "";
                const up = await explained(`stage ${step} of consul.tls and consul.acl → ${on}`, () => stack.up({ onOutput: (o) => (upLog += o) }));
                notices.forEach((n) => assert.match(upLog, n, "the up says it too"));
                assert.equal(up.outputs.consulTlsStage.value, tlsStage, "the TLS stage is on record");
                assert.equal(up.outputs.consulAclStage.value, aclStage, "the ACL stage is on record");
                token = (up.outputs.aclBootstrapToken?.value as string | null) ?? token;
                if (reloadOnly) {
                    assert.equal(pids(), pidsBefore, `TLS stage ${tlsStage}: no agent restarted (a reload)`);
                    assert.equal(await leader(), leaderBefore, `TLS stage ${tlsStage}: no election`);
                    assert.match(upLog, /took its new TLS files or flags by a reload/);
                }
                const ca = up.outputs.consulCaCert?.value ?? undefined;
                assert.equal(ca !== undefined && ca !== null, tlsStage >= 1, `a CA exactly from TLS stage 1 (at ${tlsStage})`);
                const agent = tlsStage >= 1 ? { cert: onHost("consul01", "cat /etc/consul.d/tls/cert.pem"), key: onHost("consul01", "cat /etc/consul.d/tls/key.pem") } : undefined;
                // TLS stages 0 to 2 take plain RPC (some agent may still send it); TLS from stage 1; plain refused at 3 only.
                assert.deepEqual(await rpc(ca ?? undefined, agent), HOSTS.map(() => `${tlsStage === 3 ? "refused" : "accepted"}/${tlsStage >= 1 ? "accepted" : "-"}`), `RPC at TLS stage ${tlsStage}`);
                if (tlsStage >= 1) {
                    for (const h of HOSTS) {
                        assert.match(await httpsGet(`https://${h.address}:8501/v1/status/leader`, { ca: String(ca) }), /:8300"$/, `HTTPS on ${h.name} at TLS stage ${tlsStage}`);
                    }
                }
                // Anonymous reads allowed until default deny; the management token reads throughout.
                assert.equal((await http(`http://${HOSTS[1].address}:8500/v1/kv/e2e/tls/1?raw`)).status, aclStage === 2 ? 403 : 200, `anonymous read at ACL stage ${aclStage}`);
                const peers = JSON.parse((await http(`http://${HOSTS[0].address}:8500/v1/status/peers`)).body) as string[];
                assert.equal(peers.length, 3, `3 voters after step ${step}`);
                const keys = JSON.parse((await http(`http://${HOSTS[2].address}:8500/v1/kv/e2e/tls/?keys`, withToken())).body) as string[];
                assert.equal(keys.length, 1000, `every key after step ${step}`);
            }
            await stack.preview({ expectNoChanges: true });
        };
        try {
            await walk(true);
            await walk(false);
        } finally {
            haltPollers();
        }
        const { reads, windows, recovered } = await reader();
        log(`consul.tls and consul.acl on and off in 6 ups: ${reads} consistent reads, failure windows (ms): ${JSON.stringify(windows)}`);
        assert.ok(recovered, "the reader reads again at the end");
        assert.ok(windows.every((w) => w < 10_000), `no read gap of 10 s or more: ${JSON.stringify(windows)}`);
        assert.equal(onHost("consul02", "test -e /etc/consul.d/tls && echo left || echo gone").trim(), "gone", "TLS off takes the stack's certificates away");
    });
});
