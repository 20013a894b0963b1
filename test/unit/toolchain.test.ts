// The toolchain script's failure mode: with no module proxy and nothing cached, it must stop with
// a message naming the binary it could not build and why (not a bare Go stack trace).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.resolve(__dirname, "..", "..");

describe("scripts/toolchain.sh", () => {
    it("fails clearly with GOPROXY=off and an empty cache", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cs-toolchain-"));
        try {
            const r = spawnSync("bash", [path.join(repo, "scripts", "toolchain.sh")], {
                encoding: "utf8",
                env: {
                    ...process.env,
                    GOPROXY: "off",
                    GOFLAGS: "-modcacherw",
                    GOMODCACHE: path.join(tmp, "mod"),
                    CONSUL_SWARM_CACHE: path.join(tmp, "cache"),
                },
            });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /could not build pulumi 3\.248\.0/);
            assert.match(r.stderr, /why: .*GOPROXY=off/);
            assert.match(r.stderr, /The Go module proxy must be reachable/);
            assert.equal(r.stdout, "", "no bin directory is printed on failure");
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
