// What scripts/env.sh clears after an interrupted CLI, against a file backend in a temp directory
// and a stand-in `pulumi` (the real one is not needed to judge the files).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.resolve(__dirname, "..", "..", "..");

/** A backend holding stack `s` whose CLI was killed: an empty sidecar and, optionally, a lock. */
function interruptedBackend(lockPid?: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-recover-"));
    const stacks = path.join(dir, ".pulumi", "stacks", "consul-swarm");
    fs.mkdirSync(stacks, { recursive: true });
    fs.writeFileSync(path.join(stacks, "s.json"), "{}");
    fs.writeFileSync(path.join(stacks, "s.json.attrs"), "");
    fs.writeFileSync(path.join(stacks, "other.json.attrs"), "");
    const locks = path.join(dir, ".pulumi", "locks", "organization", "consul-swarm", "s");
    fs.mkdirSync(locks, { recursive: true });
    if (lockPid !== undefined) {
        fs.writeFileSync(path.join(locks, "l.json"), JSON.stringify({ pid: lockPid, hostname: os.hostname(), timestamp: "t" }));
    }
    // The stand-in CLI: `stack export` fails as on a stack without state, so no refresh is run.
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "pulumi"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    return { dir, stacks, locks, bin };
}

function run(fn: string, b: ReturnType<typeof interruptedBackend>) {
    return spawnSync("bash", ["-c", `. scripts/env.sh && ${fn} s`], {
        cwd: repo,
        encoding: "utf8",
        env: { ...process.env, PATH: `${b.bin}:${process.env.PATH}`, PULUMI_BACKEND_URL: `file://${b.dir}` },
    });
}

describe("scripts/env.sh: what an interrupted CLI left", () => {
    it("an empty checkpoint sidecar of the named stack goes; the checkpoint and another stack's sidecar stay", () => {
        const b = interruptedBackend();
        try {
            const r = run("consul_swarm_repair_attrs", b);
            assert.equal(r.status, 0, r.stderr);
            assert.ok(!fs.existsSync(path.join(b.stacks, "s.json.attrs")));
            assert.ok(fs.existsSync(path.join(b.stacks, "s.json")), "the checkpoint stays");
            assert.ok(fs.existsSync(path.join(b.stacks, "other.json.attrs")), "only the named stack's sidecar is touched");
            assert.match(r.stderr, /removing .*s\.json\.attrs, an empty attributes file/);
        } finally {
            fs.rmSync(b.dir, { recursive: true, force: true });
        }
    });

    it("before an up: the sidecar, and the lock of a CLI that no longer runs", () => {
        const b = interruptedBackend(2 ** 22 + 1);
        try {
            const r = run("consul_swarm_recover", b);
            assert.equal(r.status, 0, r.stderr);
            assert.ok(!fs.existsSync(path.join(b.stacks, "s.json.attrs")));
            assert.deepEqual(fs.readdirSync(b.locks), []);
            assert.match(r.stderr, /clearing the lock on stack s left by pulumi process 4194305/);
        } finally {
            fs.rmSync(b.dir, { recursive: true, force: true });
        }
    });

    it("keeps the lock of a CLI that still runs", () => {
        const b = interruptedBackend();
        // A process whose name is `pulumi` (what /proc/PID/comm shows): sleep under that name. It
        // also stands in for the CLI's `stack export`, which then fails, as the stand-in does.
        fs.copyFileSync("/bin/sleep", path.join(b.bin, "pulumi"));
        const sleeper = spawnSync("bash", ["-c", `${path.join(b.bin, "pulumi")} 30 >/dev/null 2>&1 & echo $!`], { encoding: "utf8" });
        const pid = Number(sleeper.stdout.trim());
        try {
            fs.writeFileSync(path.join(b.locks, "l.json"), JSON.stringify({ pid, hostname: os.hostname(), timestamp: "t" }));
            const r = run("consul_swarm_recover", b);
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(fs.readdirSync(b.locks), ["l.json"], r.stderr);
        } finally {
            process.kill(pid, "SIGKILL");
            fs.rmSync(b.dir, { recursive: true, force: true });
        }
    });
});
