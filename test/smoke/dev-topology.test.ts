// The quick stage's end-to-end smoke (`npm run test:quick`): the dev stack's topology on lab hosts
// of its own, a cold up, a no-op preview, a destroy that leaves no lab container. The whole suite
// (`npm test`) proves the rest; this says in about two minutes that the program still brings a
// cluster up on this machine.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { changed } from "../e2e/lib";

const repo = path.resolve(__dirname, "..", "..");
const NETWORK = "consul-swarm-e2e-smoke";
const HOSTS = [
    { name: "consulsvr", address: "10.225.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.225.0.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "10.225.0.113", roles: ["consul-server", "swarm-agent"] },
];

describe("smoke: the dev topology on lab hosts", { timeout: 10 * 60 * 1000 }, () => {
    let stack: Stack | undefined;

    after(async () => {
        if (stack) {
            await stack.destroy();
            await stack.workspace.removeStack("e2e-smoke");
        }
    });

    it("a cold up forms the cluster, a preview then shows no change, a destroy leaves no lab container", async () => {
        stack = await LocalWorkspace.createOrSelectStack({ stackName: "e2e-smoke", workDir: repo });
        await stack.setAllConfig({
            "consul-swarm:lab": { value: JSON.stringify({ subnet: "10.225.0.0/24", networkName: NETWORK }) },
            "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" } }) },
            "consul-swarm:hosts": { value: JSON.stringify(HOSTS) },
        });
        const up = await stack.up({ onOutput: (o) => process.stderr.write(o) });
        assert.equal(up.summary.result, "succeeded");
        assert.ok(HOSTS.some((h) => h.name === up.outputs.consulLeader.value), `a leader: ${up.outputs.consulLeader.value}`);
        const members = up.outputs.consulMembers.value as { name: string; status: string; type: string }[];
        assert.deepEqual(members.map((m) => `${m.name} ${m.status} ${m.type}`).sort(), ["consul01 alive server", "consul02 alive server", "consulsvr alive server"]);
        const nodes = up.outputs.swarmNodes.value as { hostname: string; status: string }[];
        assert.deepEqual(nodes.map((n) => `${n.hostname} ${n.status.toLowerCase()}`).sort(), ["consul01 ready", "consul02 ready", "consulsvr ready"]);
        const noop = await stack.preview();
        assert.deepEqual(changed({ summary: { resourceChanges: noop.changeSummary } as never }), {}, "a no-op preview");
        await stack.destroy();
        await stack.workspace.removeStack("e2e-smoke");
        stack = undefined;
        assert.equal(execFileSync("docker", ["ps", "-aq", "--filter", `name=^/?${NETWORK}-`], { encoding: "utf8" }).trim(), "");
    });
});
