// The built toolchain, end to end: the CLI, the language host and the three provider plugins run
// a real stack offline, and the built Consul serves its API and its UI.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { LocalWorkspace } from "@pulumi/pulumi/automation";

const repo = path.resolve(__dirname, "..", "..");
const versions = require(path.join(repo, "toolchain", "versions.json"));

describe("the built Pulumi toolchain", { timeout: 10 * 60 * 1000 }, () => {
    it("lists the built plugins at the versions the npm packages ask for", () => {
        const out = execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8" });
        const plugins = (JSON.parse(out) as { name: string; kind: string; version: string }[])
            .filter((p) => p.kind === "resource")
            .map((p) => `${p.name}@${p.version}`)
            .sort();
        for (const name of ["command", "docker", "random"]) {
            assert.ok(plugins.includes(`${name}@${versions.plugins[name]}`), `${name}@${versions.plugins[name]} in ${plugins}`);
        }
        assert.equal(execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim(), `v${versions.pulumi}`);
    });

    it("runs a stack with command, random and docker: up, a no-op up, destroy, no plugin download", async () => {
        assert.equal(process.env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "true");
        const stack = await LocalWorkspace.createOrSelectStack({
            stackName: "e2e-minimal",
            workDir: path.join(repo, "test", "e2e", "fixtures", "minimal"),
        });
        let log = "";
        try {
            const up = await stack.up({ onOutput: (o) => (log += o) });
            assert.deepEqual(up.summary.resourceChanges, { create: 4 });
            assert.equal(String(up.outputs.stdout.value).trim(), "hello from the built command provider");
            assert.equal(up.outputs.passwordLength.value, 24);
            assert.equal(up.outputs.networkName.value, "consul-swarm-e2e-minimal");
            const subnet = execFileSync("docker", ["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "consul-swarm-e2e-minimal"], {
                encoding: "utf8",
            });
            assert.equal(subnet.trim(), "10.216.0.0/24");
            const again = await stack.up({ onOutput: (o) => (log += o) });
            assert.deepEqual(again.summary.resourceChanges, { same: 4 });
        } finally {
            const d = await stack.destroy({ onOutput: (o) => (log += o) });
            assert.deepEqual(d.summary.resourceChanges, { delete: 4 });
            await stack.workspace.removeStack("e2e-minimal");
        }
        assert.doesNotMatch(log, /download/i, "no plugin was downloaded");
    });
});

describe("the built Consul", { timeout: 2 * 60 * 1000 }, () => {
    it("is stamped as HashiCorp stamps a release: its commit's time and revision, as the module proxy serves them", () => {
        for (const v of [versions.consul, ...versions.consulAlso]) {
            const out = execFileSync(path.join(String(process.env.CONSUL_SWARM_TOOLBIN), `consul-${v}`), ["version"], { encoding: "utf8" });
            const download = JSON.parse(execFileSync("go", ["mod", "download", "-json", `github.com/hashicorp/consul@v${v}`], { cwd: "/", encoding: "utf8" }));
            const release = JSON.parse(fs.readFileSync(download.Info, "utf8")) as { Time: string; Origin?: { Hash?: string } };
            assert.match(out, new RegExp(`^Consul v${v.replace(/\./g, "\\.")}$`, "m"), out);
            assert.match(release.Time, /^20\d\d-\d\d-\d\dT/);
            assert.match(out, new RegExp(`^Build Date ${release.Time}$`, "m"), out);
            if (release.Origin?.Hash) {
                assert.match(out, new RegExp(`^Revision ${release.Origin.Hash.slice(0, 8)}$`, "m"), out);
            } else {
                assert.doesNotMatch(out, /^Revision/m, `the proxy names no commit for ${v}, so none is printed: ${out}`);
            }
        }
    });

    it("runs `consul agent -dev` on loopback: a leader and the web UI", async () => {
        const bin = path.join(String(process.env.CONSUL_SWARM_TOOLBIN), "consul");
        assert.match(execFileSync(bin, ["version"], { encoding: "utf8" }), new RegExp(`^Consul v${versions.consul.replace(/\./g, "\\.")}\\n`));
        const http = 18500;
        const agent = spawn(
            bin,
            [
                "agent",
                "-dev",
                "-bind=127.0.0.1",
                "-client=127.0.0.1",
                `-hcl=ports { http = ${http}, dns = -1, grpc = -1, serf_lan = 18301, serf_wan = 18302, server = 18300 }`,
            ],
            { stdio: "ignore" },
        );
        try {
            const base = `http://127.0.0.1:${http}`;
            let leader = "";
            for (let i = 0; i < 60 && !/^"127\.0\.0\.1:18300"$/.test(leader); i++) {
                await new Promise((r) => setTimeout(r, 500));
                leader = await fetch(`${base}/v1/status/leader`).then(async (r) => (await r.text()).trim(), () => "");
            }
            assert.equal(leader, '"127.0.0.1:18300"');
            const ui = await fetch(`${base}/ui/`);
            assert.equal(ui.status, 200);
            assert.match(await ui.text(), /<title>Consul by HashiCorp<\/title>|consul-ui/i);
        } finally {
            agent.kill("SIGINT");
        }
    });
});
