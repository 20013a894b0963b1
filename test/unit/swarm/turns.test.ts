// Swarm workers' restart turns (swarm-turn-lib.sh) against a stand-in for Consul's KV API that
// keeps Consul's check-and-set semantics: hosts run the library under sh at the same time.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { loadScript } from "../../../components/shared/script";

/** Consul's KV: GET (404 when absent), PUT and DELETE with ?cas= (0: only while absent), one raft index for all. */
class FakeKv {
    readonly keys = new Map<string, { value: string; index: number }>();
    private index = 10;
    readonly server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://kv");
        const key = decodeURIComponent(url.pathname.replace(/^\/v1\/kv\//, ""));
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            const cur = this.keys.get(key);
            const cas = url.searchParams.get("cas");
            const casOk = cas === null || (cas === "0" ? cur === undefined : cur?.index === Number(cas));
            if (req.method === "GET") {
                if (!cur) {
                    res.writeHead(404).end();
                    return;
                }
                const entry = { Key: key, Flags: 0, Value: Buffer.from(cur.value).toString("base64"), CreateIndex: 1, ModifyIndex: cur.index, LockIndex: 0 };
                res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify([entry]));
            } else if (req.method === "PUT") {
                if (casOk) {
                    this.keys.set(key, { value: body, index: ++this.index });
                }
                res.writeHead(200).end(String(casOk));
            } else if (req.method === "DELETE") {
                if (casOk) {
                    this.keys.delete(key);
                }
                res.writeHead(200).end(String(casOk));
            }
        });
    });
    url = "";
}

const kv = new FakeKv();
const SLOT0 = "consul-swarm/swarm/restart-turns/0";

/**
 * One host's turn: takes it, says when it started (ms), holds it `holdSeconds`, says when it ended,
 * gives it back. The host's name comes from a function that shadows hostname(1).
 */
function hostTurn(host: string, holdSeconds: number, vars: Record<string, string | number> = {}) {
    const settings = { TURNS: 1, TURN_BEAT: 1, TURN_STALE: 3, TURN_WAIT: 30, TURN_WAIT_CONSUL: 3, ACL: "no", CONSUL: kv.url, KV_PREFIX: "consul-swarm/swarm", ...vars };
    const script = [
        "set -eu",
        ...Object.entries(settings).map(([k, v]) => `${k}='${v}'`),
        `hostname() { echo '${host}'; }`,
        loadScript("swarm-lib"),
        loadScript("swarm-turn-lib"),
        'tmp=$(mktemp -d); trap \'turn_release; rm -rf "$tmp"\' EXIT',
        "consul_kv_auth",
        "turn_take || exit 9",
        'echo "start $(date +%s%3N)"',
        `sleep ${holdSeconds}`,
        'echo "end $(date +%s%3N)"',
    ].join("\n");
    return new Promise<{ code: number; out: string; err: string; start: number; end: number }>((resolve) => {
        const child = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) => {
            const at = (what: string) => Number(new RegExp(`^${what} (\\d+)$`, "m").exec(out)?.[1] ?? NaN);
            resolve({ code: code ?? -1, out, err, start: at("start"), end: at("end") });
        });
    });
}

describe("swarm workers' restart turns in Consul KV", () => {
    before(async () => {
        await new Promise<void>((r) => kv.server.listen(0, "127.0.0.1", r));
        kv.url = `http://127.0.0.1:${(kv.server.address() as AddressInfo).port}`;
    });
    after(() => kv.server.close());
    beforeEach(() => kv.keys.clear());

    it("one turn: three hosts restart one after the other, and the turn is given back", async () => {
        const runs = await Promise.all(["w1", "w2", "w3"].map((h) => hostTurn(h, 1)));
        runs.forEach((r) => assert.equal(r.code, 0, r.err));
        const spans = runs.map((r) => [r.start, r.end]).sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < spans.length; i++) {
            assert.ok(spans[i][0] >= spans[i - 1][1], `turns overlap: ${JSON.stringify(spans)}`);
        }
        assert.equal(kv.keys.size, 0, "every turn given back");
    });

    it("two turns: never more than two hosts at once, and two do go together", async () => {
        const runs = await Promise.all(["w1", "w2", "w3", "w4"].map((h) => hostTurn(h, 1, { TURNS: 2 })));
        runs.forEach((r) => assert.equal(r.code, 0, r.err));
        const most = Math.max(...runs.map((r) => runs.filter((o) => o.start < r.end && r.start < o.end).length));
        assert.equal(most, 2, `hosts at once: ${most}`);
    });

    it("a holder that died is taken over once its turn went unchanged for TURN_STALE seconds", async () => {
        kv.keys.set(SLOT0, { value: "deadhost", index: 5 });
        const t0 = Date.now();
        const r = await hostTurn("w1", 0);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /restart turn 0 \(taken over from deadhost, unchanged for [34] s\)/);
        assert.ok(r.start - t0 >= 3000, `waited ${r.start - t0} ms`);
    });

    it("a live holder keeps its turn past TURN_STALE (it rewrites it), and the next goes once it is given back", async () => {
        const holder = hostTurn("w1", 6);
        await new Promise((r) => setTimeout(r, 500));
        const next = await hostTurn("w2", 0);
        const first = await holder;
        assert.equal(first.code, 0, first.err);
        assert.equal(next.code, 0, next.err);
        assert.doesNotMatch(next.out, /taken over/);
        assert.ok(next.start >= first.end, `w2 went at ${next.start}, w1 ended at ${first.end}`);
    });

    it("a turn this host held in a run killed earlier is its own again at once", async () => {
        kv.keys.set(SLOT0, { value: "w1", index: 5 });
        const r = await hostTurn("w1", 0);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /restart turn 0 \(its own from an earlier run\)/);
    });

    it("no turn when Consul does not answer: fails within its bound, saying so", async () => {
        const r = await hostTurn("w1", 0, { CONSUL: "http://127.0.0.1:9", TURN_WAIT_CONSUL: 2 });
        assert.equal(r.code, 9);
        assert.match(r.err, /no restart turn: Consul at http:\/\/127\.0\.0\.1:9 did not answer for 2 s \(dockerd not restarted/);
    });

    it("no turn while every one is held by live hosts past TURN_WAIT: fails naming the KV prefix", async () => {
        const holder = hostTurn("w1", 5);
        await new Promise((r) => setTimeout(r, 500));
        const r = await hostTurn("w2", 0, { TURN_WAIT: 2 });
        await holder;
        assert.equal(r.code, 9);
        assert.match(r.err, /no restart turn within 2 s, every one of 1 held \(consul-swarm\/swarm\/restart-turns\/ in Consul\)/);
    });
});
