// The pre-change snapshot (consul-snapshot.sh, ACTION=save) against a stand-in for Consul's HTTP
// API: a server that answers 500 for a while (a new server being promoted, a leader just elected)
// is asked again within SAVE_WAIT; a refusal (403) stops at once; a 500 that lasts gives up.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { renderScript } from "../../../components/shared/script";

/** Answers /v1/status/leader always; /v1/snapshot with `failures` 5xx (or `refuse` 403) first. */
class FakeConsul {
    failures = 0;
    /** Answers this many snapshots with 200 and a gzip archive cut in half. */
    truncated = 0;
    refuse = false;
    snapshotCalls = 0;
    readonly server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            if (req.url === "/v1/status/leader") {
                res.writeHead(200).end('"10.0.0.1:8300"');
            } else if (req.url?.startsWith("/v1/kv/")) {
                res.writeHead(this.refuse ? 403 : 200).end(this.refuse ? "Permission denied" : "true");
            } else if (req.url === "/v1/snapshot") {
                this.snapshotCalls++;
                if (this.failures > 0) {
                    this.failures--;
                    res.writeHead(500).end("failed to snapshot: raft is not ready");
                } else if (this.truncated > 0) {
                    this.truncated--;
                    const whole = gzipSync("snapshot ".repeat(100));
                    res.writeHead(200).end(whole.subarray(0, whole.length / 2));
                } else {
                    res.writeHead(200).end(gzipSync("snapshot"));
                }
            } else {
                res.writeHead(404).end();
            }
        });
    });
    url = "";
}

const consul = new FakeConsul();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "snapshot-test-"));

function save(saveWait: number): Promise<{ code: number; stdout: string; stderr: string }> {
    const script = renderScript("consul-snapshot", {
        ACTION: "save",
        ADDRS: consul.url,
        DIR: dir,
        LABEL: "before-test",
        REQUIRE_CLUSTER: "yes",
        SAVE_WAIT: saveWait,
    });
    return new Promise((resolve) => {
        const child = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.stdin.end("a-token\n");
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

describe("the pre-change snapshot", () => {
    before(async () => {
        await new Promise<void>((r) => consul.server.listen(0, "127.0.0.1", r));
        consul.url = `http://127.0.0.1:${(consul.server.address() as AddressInfo).port}`;
    });
    after(() => {
        consul.server.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a server that answers 500 for a while is asked again, and the snapshot is saved", async () => {
        Object.assign(consul, { failures: 2, refuse: false, snapshotCalls: 0 });
        const r = await save(30);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(consul.snapshotCalls, 3);
        assert.match(r.stderr, /answered 500: failed to snapshot/);
        const file = /^snapshot=(\S+)$/m.exec(r.stdout)?.[1];
        assert.ok(file && fs.existsSync(file), r.stdout);
        assert.ok(!fs.existsSync(`${file}.part`));
    });

    it("an archive cut short behind a 200 is asked for again", async () => {
        Object.assign(consul, { failures: 0, truncated: 1, refuse: false, snapshotCalls: 0 });
        const r = await save(30);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(consul.snapshotCalls, 2);
        assert.match(r.stderr, /sent a snapshot that is not a whole gzip archive\); trying again/);
    });

    it("a refusal (403) stops at once, naming the answer", async () => {
        Object.assign(consul, { failures: 0, refuse: true, snapshotCalls: 0 });
        const r = await save(30);
        assert.equal(r.code, 5);
        assert.equal(consul.snapshotCalls, 0);
        assert.match(r.stderr, /no snapshot was taken, nothing was restarted: .* answered 403: Permission denied/);
        assert.doesNotMatch(r.stderr, /trying again/);
    });

    it("a 500 that lasts past SAVE_WAIT gives up, naming the last answer", async () => {
        Object.assign(consul, { failures: 1000, refuse: false, snapshotCalls: 0 });
        const r = await save(3);
        assert.equal(r.code, 5);
        assert.ok(consul.snapshotCalls >= 2, `${consul.snapshotCalls} tries`);
        assert.match(r.stderr, /no snapshot was taken, nothing was restarted: .* answered 500/);
        assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".part")), []);
    });
});
