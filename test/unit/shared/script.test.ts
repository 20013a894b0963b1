// How remote scripts are made: quoting, ownership records, what reaches a host.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { consulServiceScript } from "../../../components/consul/render";
import { dockerDaemonScript } from "../../../components/docker/render";
import { loadScript, renderScript, SCRIPT_DIRS, sha256, sha256File, shq, stripComments } from "../../../components/shared/script";

/** Runs a script under sh with a fake PATH-free environment and returns what it prints. */
function sh(script: string, input?: string): string {
    return execFileSync("sh", ["-c", script], { input, encoding: "utf8" });
}

describe("shell quoting", () => {
    it("round-trips every awkward value through sh", () => {
        for (const v of [`it's`, `$(touch /tmp/pwned)`, "a b\tc\nd", "`id`", `"\\'`, ""]) {
            assert.equal(sh(`printf '%s' ${shq(v)}`), v);
        }
    });
    it("puts variables in a sorted, quoted header and rejects bad names", () => {
        const s = renderScript("swarm-leave", { B: "x y", A: "it's" });
        assert.match(s, /^#!\/bin\/sh\n# consul-swarm: swarm-leave\nset -eu\nA='it'\\''s'\nB='x y'\n/);
        assert.throws(() => renderScript("swarm-leave", { "bad-name": 1 }), /bad variable name/);
    });
    it("renders every script as valid sh", () => {
        const scripts = [
            dockerDaemonScript("debian", { tcpPort: 2375, bindAddress: "0.0.0.0", tls: false }),
            dockerDaemonScript("rhel", { tcpPort: 2375, bindAddress: "0.0.0.0", tls: false }),
            consulServiceScript({ nodeName: "consulsvr", server: true, peers: ["10.0.0.2"], bootstrap: true, waitSeconds: 60, binarySha256: "ab" }),
            ...["consul-join", "consul-verify", "consul-install-url", "consul-install-file", "swarm-init", "swarm-join", "swarm-verify", "host-facts"].map((n) =>
                renderScript(n, {}),
            ),
        ];
        for (const s of scripts) {
            execFileSync("sh", ["-n"], { input: s });
        }
    });
});

describe("step ownership on a host", () => {
    it("a delete acts only while its step still owns the part: not after a renamed host's new step claimed it, not on a new machine", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-owner-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(`${dir}/bin/docker`, `#!/bin/sh\necho "$*" >> ${dir}/docker-calls\ncase "$*" in "node ls"*) echo "id1 consul01 Ready" ;; *Spec.Role*) echo worker ;; esac\n`, { mode: 0o755 });
        const onHost = (script: string) => {
            fs.rmSync(`${dir}/docker-calls`, { force: true });
            const out = execFileSync("sh", ["-c", script.replace(/^OWNERS=.*$/m, `OWNERS=${dir}/owners`)], {
                env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` },
                encoding: "utf8",
            });
            return { out, left: fs.existsSync(`${dir}/docker-calls`) };
        };
        const claim = (id: string) => onHost(renderScript("swarm-node-claim", { NODE: "consul01", ROLE: "worker" }, ["retry-lib"], { part: "swarm", id, action: "claim" }));
        const leave = (id: string) => onHost(renderScript("swarm-leave", {}, [], { part: "swarm", id, action: "check" }));
        let r = leave("Swarm/swarm-join-consul01");
        assert.equal(r.left, false, "a new machine (no record): the old step's delete does nothing");
        assert.match(r.out, /belongs to no step of the stack/);
        claim("Swarm/swarm-join-consul01");
        claim("Swarm/swarm-join-consul03");
        r = leave("Swarm/swarm-join-consul01");
        assert.equal(r.left, false, "renamed: the old step's delete leaves the node in the swarm");
        assert.match(r.out, /belongs to Swarm\/swarm-join-consul03, not to Swarm\/swarm-join-consul01/);
        assert.equal(leave("Swarm/swarm-join-consul03").left, true, "the owner's own delete (a removal) leaves the swarm");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("scripts as they go to a host", () => {
    it("lose their comment and blank lines, nothing else", () => {
        assert.equal(stripComments("a\n  # why\n\nb # kept: not a whole line\n"), "a\nb # kept: not a whole line\n");
    });
    it("have no here-document, and each still parses as sh once its comments are gone", () => {
        const files = SCRIPT_DIRS.flatMap((dir) => fs.readdirSync(dir).filter((n) => n.endsWith(".sh")).map((n) => path.join(dir, n)));
        assert.ok(files.length > 30, `every part's scripts: ${files.length}`);
        assert.equal(new Set(files.map((f) => path.basename(f))).size, files.length, "a script's name is unique across the parts");
        for (const file of files) {
            const f = path.basename(file);
            const text = fs.readFileSync(file, "utf8");
            assert.doesNotMatch(text, /<<-?\s*['"]?\w/, `${f}: a here-document could hold lines that start with #`);
            const r = spawnSync("sh", ["-n"], { input: loadScript(f.replace(/\.sh$/, "")), encoding: "utf8" });
            assert.equal(r.status, 0, `${f}: ${r.stderr}`);
        }
    });
});

describe("bounded waits", () => {
    it("a step whose lock another run holds gives up within its bound, naming the lock it waited for", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-lock-"));
        // Another run of the step, holding its lock and never letting go (within this test).
        const holder = spawnSync("sh", ["-c", `exec 9>"${dir}/consul-swarm-consul-service.lock"; flock 9; sleep 30 >/dev/null 2>&1 </dev/null & echo $!`], { encoding: "utf8" });
        const holderPid = Number(holder.stdout.trim());
        assert.ok(holderPid > 0, holder.stderr);
        try {
            const t0 = Date.now();
            const r = spawnSync("sh", ["-c", `set -eu\nSTEP_LOCK_DIR='${dir}' STEP_LOCK_WAIT=1\n${loadScript("retry-lib")}\nstep_lock consul-service\necho ran`], { encoding: "utf8" });
            assert.equal(r.status, 75, r.stderr);
            assert.doesNotMatch(r.stdout, /ran/);
            assert.match(r.stderr, new RegExp(`another run of the consul-service step held ${dir}/consul-swarm-consul-service.lock for 1 s; gave up waiting for it`));
            assert.ok(Date.now() - t0 < 5000, "within its bound");
        } finally {
            process.kill(holderPid);
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("curl on the oldest distribution the README names", () => {
    it("every remote script's curl options exist in CentOS 7's curl 7.29; --unix-socket (7.40) only behind a check", () => {
        // Long options of curl 7.29 the scripts may use; short ones (-s -S -f -L -m -K -o -w -X -H) all exist there.
        const known729 = new Set(["cacert", "cert", "key", "data-binary", "retry", "help", "config", "silent", "fail", "max-time", "connect-timeout", "output", "header", "request"]);
        for (const dir of SCRIPT_DIRS) {
            for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".sh"))) {
                const body = stripComments(fs.readFileSync(path.join(dir, f), "utf8"));
                for (const line of body.split("\n").filter((l) => /\bcurl\s/.test(l))) {
                    for (const [, opt] of line.matchAll(/\s--([a-z][a-z-]*)/g)) {
                        if (opt === "unix-socket") {
                            assert.equal(f, "swarm-lib.sh", `${f}: --unix-socket outside docker_api_post`);
                            assert.match(body, /if curl --help all 2>\/dev\/null \| grep -q -e '--unix-socket'; then\n\s+curl [^\n]*--unix-socket/, "only after asking curl");
                            continue;
                        }
                        assert.ok(known729.has(opt), `${f}: curl --${opt} is not in curl 7.29 (CentOS 7): ${line.trim()}`);
                    }
                }
            }
        }
    });
});

describe("a local file's SHA-256", () => {
    it("is read once per program run, and again when the file changes", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-sha-"));
        const f = path.join(dir, "consul");
        fs.writeFileSync(f, "one");
        const one = sha256File(f);
        assert.equal(one, sha256("one"));
        assert.equal(sha256File(f), one);
        fs.writeFileSync(f, "two, longer");
        assert.equal(sha256File(f), sha256("two, longer"), "a changed file is hashed again");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
