// The tutorial's own, unprotected mode still works when a stack asks for it: Docker's API on plain
// TCP 2375, Consul without ACLs or TLS (gossip stays encrypted). The policy pack flags this mode
// outside dev stacks (test/e2e/policy.test.ts); here, on lab hosts, it runs.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { discardLab } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const NETWORK = "consul-swarm-e2e-tutorial";
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
            "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" }, acl: false, tls: false }) },
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
});
