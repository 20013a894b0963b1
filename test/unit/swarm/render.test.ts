// The Swarm part's parser of the node list, and its scripts' way to the local Docker API.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseSwarmNodes } from "../../../components/swarm/render";
import { loadScript, renderScript } from "../../../components/shared/script";

describe("parsers", () => {
    it("reads swarm nodes", () => {
        assert.deepEqual(parseSwarmNodes("node=b Ready Active \nnode=a Ready Active Leader\nnoise\n"), [
            { hostname: "a", status: "Ready", availability: "Active", manager: "Leader" },
            { hostname: "b", status: "Ready", availability: "Active", manager: "" },
        ]);
    });
});

describe("the local Docker API from swarm scripts", () => {
    /** docker_api_post under sh with a stand-in curl (its help, and what it was asked) and ps. */
    function post(curlHelp: string, psArgs: string, tls: boolean) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-api-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(
            path.join(bin, "curl"),
            `#!/bin/sh\nif [ "$1" = --help ]; then printf '%s\\n' '${curlHelp}'; exit 0; fi\necho "$*" > '${dir}/args'\ncat > '${dir}/body'\n`,
            { mode: 0o755 },
        );
        fs.writeFileSync(path.join(bin, "ps"), `#!/bin/sh\nprintf '%s\\n' '${psArgs}'\n`, { mode: 0o755 });
        const lib = loadScript("swarm-lib").replace(/\/etc\/docker\/tls/g, tls ? path.join(dir, "tls") : path.join(dir, "none"));
        if (tls) {
            fs.mkdirSync(path.join(dir, "tls"));
            fs.writeFileSync(path.join(dir, "tls", "cert.pem"), "");
        }
        execFileSync("sh", ["-c", `${lib}\nprintf '{"JoinToken":"SECRET"}' | docker_api_post /swarm/join`], { env: { PATH: `${bin}:/usr/bin:/bin` } });
        const r = { args: fs.readFileSync(path.join(dir, "args"), "utf8").trim(), body: fs.readFileSync(path.join(dir, "body"), "utf8") };
        fs.rmSync(dir, { recursive: true, force: true });
        return r;
    }

    it("uses the unix socket where curl has --unix-socket, the token in the body only", () => {
        const r = post(" --unix-socket <path> Connect through this Unix domain socket", "/usr/sbin/dockerd", false);
        assert.match(r.args, /--unix-socket \/var\/run\/docker\.sock .*http:\/\/localhost\/swarm\/join$/);
        assert.equal(r.body, '{"JoinToken":"SECRET"}');
        assert.doesNotMatch(r.args, /SECRET/);
    });
    it("on CentOS 7's curl (no --unix-socket) goes through the daemon's own TCP API, with its TLS pair", () => {
        const r = post(" -K, --config FILE Specify which config file to read", "/usr/bin/dockerd-current -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2376 --tlsverify", true);
        assert.match(r.args, /--cacert \S*\/tls\/ca\.pem --cert \S*\/tls\/cert\.pem --key \S*\/tls\/key\.pem .*https:\/\/127\.0\.0\.1:2376\/swarm\/join$/);
        assert.doesNotMatch(r.args, /unix-socket|SECRET/);
        assert.equal(r.body, '{"JoinToken":"SECRET"}');
        const plain = post(" -K, --config FILE", "/usr/bin/dockerd-current -H unix:///var/run/docker.sock -H tcp://10.0.0.5:2375", false);
        assert.match(plain.args, /http:\/\/10\.0\.0\.5:2375\/swarm\/join$/);
    });
});

describe("the swarm verify step's membership records", () => {
    it("puts back the records a rebuilt first manager lost, and leaves one that names another step", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-claims-"));
        const block = /^for claim in \$MEMBER_CLAIMS; do[\s\S]*?^done$/m.exec(loadScript("swarm-verify"))?.[0];
        assert.ok(block, "swarm-verify.sh puts back membership records");
        fs.mkdirSync(`${dir}/owners`);
        fs.writeFileSync(`${dir}/owners/swarm-member-consul02`, "consul-swarm:swarm:Swarm/swarm-member-consul04\n");
        execFileSync("sh", ["-euc", `OWNERS='${dir}/owners'\nMEMBER_CLAIMS='swarm-member-consul01=consul-swarm:swarm:Swarm/swarm-member-consul01 swarm-member-consul02=consul-swarm:swarm:Swarm/swarm-member-consul02'\n${block}`]);
        assert.equal(fs.readFileSync(`${dir}/owners/swarm-member-consul01`, "utf8"), "consul-swarm:swarm:Swarm/swarm-member-consul01\n");
        assert.equal(fs.readFileSync(`${dir}/owners/swarm-member-consul02`, "utf8"), "consul-swarm:swarm:Swarm/swarm-member-consul04\n", "a renamed host's new step keeps its claim");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("the first manager's swarm-init step", () => {
    /** swarm-init.sh under sh with stand-ins: a docker whose join-token says `tokenAnswer` (or fails), a curl that records its PUTs. */
    function init(tokenAnswer: string | undefined) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-init-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        const tokenLine = tokenAnswer === undefined ? `echo "Error response from daemon: This node is not a swarm manager." >&2; exit 1` : `echo '${tokenAnswer}'`;
        fs.writeFileSync(
            path.join(bin, "docker"),
            `#!/bin/sh\ncase "$1 $2" in\n"info --format") case "$3" in *LocalNodeState*) echo active ;; *) echo cid1 ;; esac ;;\n"swarm join-token") ${tokenLine} ;;\nesac\n`,
            { mode: 0o755 },
        );
        fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\nfor a; do last=$a; done\nprintf '%s=%s\\n' "$last" "$(cat)" >> '${dir}/puts'\n`, { mode: 0o755 });
        const script = `set -eu\nACL=no\nKV_PREFIX=p\nCONSUL=http://c\nADDR=10.0.0.1\nOTHER_MANAGERS=\nOWNER_ID=Swarm/swarm-init-a\n${loadScript("swarm-lib")}\n${loadScript("swarm-init")}`;
        const r = spawnSync("sh", ["-c", script], { env: { PATH: `${bin}:/usr/bin:/bin` }, input: "", encoding: "utf8" });
        const puts = fs.existsSync(`${dir}/puts`) ? fs.readFileSync(`${dir}/puts`, "utf8") : "";
        fs.rmSync(dir, { recursive: true, force: true });
        return { code: r.status, err: r.stderr, puts };
    }

    it("publishes the join tokens, the manager's address and the swarm's id", () => {
        const r = init("SWMTKN-1-abc");
        assert.equal(r.code, 0, r.err);
        assert.equal(r.puts, "http://c/v1/kv/p/worker-token=SWMTKN-1-abc\nhttp://c/v1/kv/p/manager-token=SWMTKN-1-abc\nhttp://c/v1/kv/p/manager-addr=10.0.0.1:2377\nhttp://c/v1/kv/p/cluster-id=cid1\n");
    });

    it("publishes no empty token when the node cannot give one (not a manager), and says so", () => {
        const r = init(undefined);
        assert.equal(r.code, 8);
        assert.equal(r.puts, "", "nothing written to Consul");
        assert.match(r.err, /10\.0\.0\.1, the first swarm manager, could not give the swarm's join tokens .*not a swarm manager/);
    });
});

describe("a membership step's delete on the first manager", () => {
    /** swarm-node-remove for consul01 under sh with a stand-in docker whose node carries `label`; what it printed and asked docker. */
    function remove(label: string) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-remove-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.mkdirSync(`${dir}/owners`);
        fs.writeFileSync(`${dir}/owners/swarm-member-consul01`, "Swarm/swarm-member-consul01\n");
        fs.writeFileSync(
            `${dir}/bin/docker`,
            `#!/bin/sh\necho "$*" >> ${dir}/calls\ncase "$1 $2" in\n"node ls") echo "id1 consul01" ;;\n"node inspect") case "$*" in *Labels*) echo '${label}' ;; *"no such"*) ;; *) echo "Error: No such node: id1" >&2; exit 1 ;; esac ;;\n"node ps") ;;\nesac\n`,
            { mode: 0o755 },
        );
        const script = renderScript("swarm-node-remove", { NODE: "consul01", WAIT_SECONDS: 1 }, ["retry-lib"], {
            part: "swarm-member-consul01",
            id: "Swarm/swarm-member-consul01",
            action: "check",
        }).replace(/^OWNERS=.*$/m, `OWNERS=${dir}/owners`);
        const out = execFileSync("sh", ["-c", script], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: "utf8" });
        const calls = fs.readFileSync(`${dir}/calls`, "utf8");
        fs.rmSync(dir, { recursive: true, force: true });
        return { out, calls };
    }

    it("leaves a node the swarm labels with another step (a new first manager's): no drain, no removal", () => {
        const r = remove("Swarm/swarm-init-consul01");
        assert.match(r.out, /swarm node consul01 belongs to Swarm\/swarm-init-consul01, not to Swarm\/swarm-member-consul01: left in the swarm/);
        assert.doesNotMatch(r.calls, /availability drain|node rm|demote/);
    });

    it("drains and removes a node labelled with its own step, or with none (a swarm made before labels)", () => {
        for (const label of ["Swarm/swarm-member-consul01", ""]) {
            const r = remove(label);
            assert.match(r.calls, /node update --availability drain id1/, `label '${label}'`);
            assert.match(r.out, /consul01 drained and removed from the swarm/, `label '${label}'`);
        }
    });
});

describe("a swarm node's drift probe", () => {
    /** swarm-drift for a node whose own state is active in swarm c1, with a stand-in docker whose remote manager answers `manager`. */
    function probe(manager: string) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-drift-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(
            `${dir}/bin/docker`,
            `#!/bin/sh\ncase "$*" in\n*"-H "*) ${manager} ;;\n*LocalNodeState*) echo active ;;\n*NodeID*) echo n1 ;;\nesac\n`,
            { mode: 0o755 },
        );
        fs.writeFileSync(`${dir}/bin/openssl`, "#!/bin/sh\necho 'subject=CN=n1,OU=swarm-worker,O=c1'\n", { mode: 0o755 });
        const script = renderScript("swarm-drift", { CLUSTER_ID: "c1", MANAGER_API: "tcp://10.0.0.1:2376" }, ["swarm-lib"]);
        const out = execFileSync("sh", ["-c", script], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: "utf8" });
        fs.rmSync(dir, { recursive: true, force: true });
        return out.trim();
    }

    it("reports a node the manager no longer lists (docker node rm), though it says active itself", () => {
        assert.equal(probe(`echo "Error: No such node: n1" >&2; exit 1`), "swarm: " + os.hostname() + " is active here, but the manager at tcp://10.0.0.1:2376 no longer lists it (taken out with docker node rm)");
    });

    it("finds nothing when the manager lists it, or does not answer (that proves nothing)", () => {
        assert.equal(probe("echo '[{}]'"), "");
        assert.equal(probe(`echo "Cannot connect to the Docker daemon at tcp://10.0.0.1:2376" >&2; exit 1`), "");
    });
});
