// An interrupted `up` is repaired by the next one. The project's own CLI (npm run pulumi) is
// killed, with SIGKILL or SIGINT, at several moments of a cold `up` and of a rolling change; the
// next `npm run pulumi -- up` (with the same config, or the one before the change) must converge without any edit of state or hosts by hand: a lock
// left by the dead CLI is cleared, pending operations are cleared, and every remote step decides
// from the host's real state (a daemon or agent that runs with an older config is restarted).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { discardLab } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const STACK = "e2e-int";
const NETWORK = "consul-swarm-e2e-int";
const HOSTS = [
    { name: "consulsvr", address: "10.218.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.218.0.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "10.218.0.113", roles: ["consul-server", "swarm-agent"] },
];
const config = (logLevel: string) => ({
    "consul-swarm:lab": { value: JSON.stringify({ subnet: "10.218.0.0/24", networkName: NETWORK }) },
    "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" }, logLevel }) },
    "consul-swarm:hosts": { value: JSON.stringify(HOSTS) },
});
const log = (m: string) => process.stderr.write(`[e2e] ${m}\n`);

/** `npm run pulumi -- ARGS` as a user runs it; resolves with its exit code and output. */
function pulumiCli(args: string[], kill?: { afterMs: number; signal: "SIGKILL" | "SIGINT"; when?: () => boolean }): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
        const child = spawn("bash", ["scripts/pulumi.sh", ...args], { cwd: repo, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        let timer: NodeJS.Timeout | undefined;
        let watch: NodeJS.Timeout | undefined;
        const killNow = () => {
            try {
                // SIGKILL: the CLI, its language host and its plugins die at once, as when a
                // machine or a CI job goes away. SIGINT: the CLI alone, as a user's Ctrl-C.
                process.kill(kill!.signal === "SIGKILL" ? -child.pid! : child.pid!, kill!.signal);
            } catch {
                // already gone
            }
        };
        if (kill?.when) {
            // From afterMs on, killed at the first moment `when` holds (polled every 200 ms).
            const check = kill.when;
            timer = setTimeout(() => {
                watch = setInterval(() => {
                    if (check()) {
                        clearInterval(watch);
                        killNow();
                    }
                }, 200);
            }, kill.afterMs);
        } else if (kill) {
            timer = setTimeout(killNow, kill.afterMs);
        }
        child.on("exit", (code) => {
            if (timer) {
                clearTimeout(timer);
            }
            if (watch) {
                clearInterval(watch);
            }
            if (kill?.signal === "SIGKILL") {
                try {
                    process.kill(-child.pid!, "SIGKILL");
                } catch {
                    // nothing left of the group
                }
            }
            resolve({ code, out });
        });
    });
}

const up = () => pulumiCli(["up", "--yes", "--skip-preview", "--stack", STACK]);

function onHost(host: string, script: string): string {
    return execFileSync("docker", ["exec", `${NETWORK}-${host}`, "sh", "-c", script], { encoding: "utf8" });
}

/** The cluster is whole: a leader, three voters, every agent running with the log level on disk, three swarm nodes Ready. */
function assertConverged(logLevel: string) {
    for (const h of HOSTS) {
        const self = JSON.parse(onHost(h.name, "curl -sf -H \"X-Consul-Token: $(cat /var/lib/consul-swarm/consul/token)\" http://127.0.0.1:8500/v1/agent/self"));
        assert.equal(self.DebugConfig.Logging.LogLevel, logLevel, `${h.name}'s running agent has log level ${logLevel}`);
        assert.equal(JSON.parse(onHost(h.name, "cat /etc/consul.d/consul.json")).log_level, logLevel);
        assert.equal(onHost(h.name, "curl -sf --cacert /etc/docker/tls/ca.pem --cert /etc/docker/tls/cert.pem --key /etc/docker/tls/key.pem https://127.0.0.1:2376/_ping"), "OK", `${h.name}'s Docker API answers with TLS`);
    }
    const raft = JSON.parse(onHost("consulsvr", "curl -sf -H \"X-Consul-Token: $(cat /var/lib/consul-swarm/consul/token)\" http://127.0.0.1:8500/v1/operator/raft/configuration"));
    assert.deepEqual(raft.Servers.filter((s: { Voter: boolean }) => s.Voter).map((s: { Node: string }) => s.Node).sort(), ["consul01", "consul02", "consulsvr"]);
    assert.deepEqual(onHost("consulsvr", "docker node ls --format '{{.Hostname}}={{.Status}}'").trim().split("\n").sort(), ["consul01=Ready", "consul02=Ready", "consulsvr=Ready"]);
}

async function assertNoChanges() {
    const r = await pulumiCli(["preview", "--expect-no-changes", "--stack", STACK]);
    assert.equal(r.code, 0, `preview after convergence shows changes:\n${r.out.slice(-3000)}`);
}

describe("an interrupted up is repaired by the next one", { timeout: 40 * 60 * 1000 }, () => {
    let stack: Stack;
    const results: string[] = [];

    before(async () => {
        stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, workDir: repo });
        await stack.setAllConfig(config("INFO"));
    });

    after(async () => {
        log(`interruptions: ${results.length} tried\n  ${results.join("\n  ")}`);
        if (stack) {
            await discardLab(stack, NETWORK);
        }
    });

    // Moments of a cold up: lab hosts starting and SSH facts (6 s), Consul starting (18 s), join,
    // ACLs and swarm (34 s); both signals. (14 s and 26 s were dropped for the suite's time: under
    // three lanes they fell in the same steps as their neighbours.)
    const coldMoments = [
        { afterMs: 6_000, signal: "SIGKILL" as const },
        { afterMs: 18_000, signal: "SIGKILL" as const },
        { afterMs: 34_000, signal: "SIGINT" as const },
    ];
    for (const moment of coldMoments) {
        it(`a cold up killed by ${moment.signal} after ${moment.afterMs / 1000} s: the next up converges`, async () => {
            // From nothing: the lab and the stack's state discarded (what a destroy would leave,
            // without its graceful leaves; the cold up after it is what is under test).
            await discardLab(stack, NETWORK);
            stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, workDir: repo });
            await stack.setAllConfig(config("INFO"));
            const killed = await pulumiCli(["up", "--yes", "--skip-preview", "--stack", STACK], moment);
            const next = await up();
            results.push(`cold up, ${moment.signal} at ${moment.afterMs / 1000} s (exit ${killed.code}): next up exit ${next.code}${/clearing the lock/.test(next.out) ? ", stale lock cleared" : ""}${/left pending/.test(next.out) ? ", pending operations cleared" : ""}`);
            assert.equal(next.code, 0, `the next up failed:\n${next.out.slice(-4000)}`);
            assertConverged("INFO");
            await assertNoChanges();
        });
    }

    // Moments of a rolling change: each server's service step writes the new config, then restarts.
    // (A third, SIGKILL at 9 s, was dropped for the suite's time; the case after these kills at
    // the exact moment a server has the new config on disk.)
    const rollingMoments = [
        { level: "DEBUG", afterMs: 4_000, signal: "SIGKILL" as const },
        { level: "WARN", afterMs: 6_000, signal: "SIGINT" as const },
    ];
    for (const moment of rollingMoments) {
        it(`a rolling change to log level ${moment.level} killed by ${moment.signal} after ${moment.afterMs / 1000} s: the next up finishes it`, async () => {
            await stack.setAllConfig(config(moment.level));
            const killed = await pulumiCli(["up", "--yes", "--skip-preview", "--stack", STACK], moment);
            const next = await up();
            results.push(`rolling change to ${moment.level}, ${moment.signal} at ${moment.afterMs / 1000} s (exit ${killed.code}): next up exit ${next.code}, restarts in it: ${[...next.out.matchAll(/restarting consul on (\w+)/g)].map((m) => m[1]).join(" ") || "none"}`);
            assert.equal(next.code, 0, `the next up failed:\n${next.out.slice(-4000)}`);
            assertConverged(moment.level);
            await assertNoChanges();
        });
    }

    it("a rolling change to log level DEBUG killed by SIGKILL once the first server has it on disk, then the previous config (WARN) applied: it converges on WARN, every key kept", async () => {
        // 64 keys written first (one transaction, the most Consul takes), counted after the revert.
        const token = "$(cat /var/lib/consul-swarm/consul/token)";
        const ops = JSON.stringify(Array.from({ length: 64 }, (_, i) => ({ KV: { Verb: "set", Key: `e2e/revert/${i}`, Value: "dg==" } })));
        onHost("consul01", `curl -sf -X PUT -H "X-Consul-Token: ${token}" --data-binary '${ops}' http://127.0.0.1:8500/v1/txn >/dev/null`);
        await stack.setAllConfig(config("DEBUG"));
        const debugOn = () =>
            HOSTS.filter((h) => {
                try {
                    return JSON.parse(onHost(h.name, "cat /etc/consul.d/consul.json")).log_level === "DEBUG";
                } catch {
                    return false; // the file is being written
                }
            }).map((h) => h.name);
        // Half-applied for sure: killed at the first moment a server's config says DEBUG.
        const killed = await pulumiCli(["up", "--yes", "--skip-preview", "--stack", STACK], { afterMs: 1_000, signal: "SIGKILL", when: () => debugOn().length > 0 });
        const onDebug = debugOn();
        assert.ok(onDebug.length > 0 && onDebug.length < HOSTS.length, `killed half-way: DEBUG on disk on ${onDebug.join(" ") || "none"}`);
        await stack.setAllConfig(config("WARN"));
        const revert = await up();
        results.push(`rolling change to DEBUG, SIGKILL once a server had it (exit ${killed.code}, DEBUG on disk on: ${onDebug.join(" ") || "none"}), then WARN again: up exit ${revert.code}, restarts in it: ${[...revert.out.matchAll(/restarting consul on (\w+)/g)].map((m) => m[1]).join(" ") || "none"}`);
        assert.equal(revert.code, 0, `the revert's up failed:\n${revert.out.slice(-4000)}`);
        assertConverged("WARN");
        const keys = JSON.parse(onHost("consulsvr", `curl -sf -H "X-Consul-Token: ${token}" 'http://127.0.0.1:8500/v1/kv/e2e/revert/?keys'`));
        assert.equal(keys.length, 64, "every key kept");
        await assertNoChanges();
    });
});
