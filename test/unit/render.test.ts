import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
    consulAgentConfig,
    uuidFromHex,
    consulServiceScript,
    dockerDaemonJson,
    dockerDaemonScript,
    dockerSysconfigFlags,
    parseClusterStatus,
    parseHostFacts,
    parseSwarmNodes,
    loadScript,
    stripComments,
    renderScript,
    shq,
} from "../../components/render";

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

describe("Docker daemon config", () => {
    it("Debian: daemon.json hosts (unix socket kept) and a drop-in that drops -H fd://", () => {
        assert.equal(
            dockerDaemonJson({ tcpPort: 2375, bindAddress: "0.0.0.0", tls: false }),
            '{\n  "hosts": [\n    "unix:///var/run/docker.sock",\n    "tcp://0.0.0.0:2375"\n  ]\n}\n',
        );
        const s = dockerDaemonScript("debian", { tcpPort: 2375, bindAddress: "0.0.0.0", tls: false });
        assert.match(s, /DROPIN='\[Service\]\nExecStart=\nExecStart=@DOCKERD@ \$DOCKER_OPTS\n'/);
        assert.match(s, /PING_ADDR='127.0.0.1'/);
        assert.match(s, /jq -s '\.\[0\] \* \.\[1\]'/, "merges into the user's daemon.json instead of overwriting it");
        assert.doesNotMatch(s, /sysconfig/);
    });
    it("CentOS 7: the tutorial's flags in /etc/sysconfig/docker OPTIONS", () => {
        assert.equal(dockerSysconfigFlags({ tcpPort: 2375, bindAddress: "0.0.0.0", tls: false }), "-H unix:///var/run/docker.sock -H tcp://0.0.0.0:2375");
        const s = dockerDaemonScript("rhel", { tcpPort: 2376, bindAddress: "10.0.0.5", tls: false });
        assert.match(s, /FLAGS='-H unix:\/\/\/var\/run\/docker.sock -H tcp:\/\/10.0.0.5:2376'/);
        assert.match(s, /PING_ADDR='10.0.0.5'/);
        assert.match(s, /CONF=\/etc\/sysconfig\/docker/);
        assert.doesNotMatch(s, /daemon\.json/);
    });
    it("the Debian script merges, writes only what differs and restores on the first backup", () => {
        const s = dockerDaemonScript("debian", { tcpPort: 2375, bindAddress: "0.0.0.0", tls: false });
        assert.match(s, /cmp -s "\$tmp\/daemon.json" \/etc\/docker\/daemon.json \|\| install/);
        // One list of the config's files, rendered once: what the step restarts for, and what its drift probe reads.
        assert.match(s, /FILES='\/etc\/docker\/daemon.json \/etc\/systemd\/system\/docker.service.d\/consul-swarm.conf \/etc\/docker\/tls'/);
        assert.match(s, /\ndocker_apply\n?$/);
        assert.match(s, /daemon.json.orig/);
    });
    it("restarts dockerd from the host's real state: not running, never stamped, or started before a file changed", () => {
        // A stand-in systemctl records what the script asks; the files and the start stamp are real.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-docker-apply-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(`${dir}/bin/systemctl`, `#!/bin/sh\necho "$*" >> ${dir}/calls\ncase "$*" in "is-active --quiet docker") [ -e ${dir}/active ];; restart*) touch ${dir}/stamp;; esac\n`, { mode: 0o755 });
        fs.writeFileSync(`${dir}/bin/curl`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        // A stand-in docker CLI: a swarm node while ${dir}/swarm exists.
        fs.writeFileSync(`${dir}/bin/docker`, `#!/bin/sh\nif [ -e ${dir}/swarm ]; then echo active; else echo inactive; fi\n`, { mode: 0o755 });
        const record = loadScript("record-lib").replace(/^RECORD_DIR=.*$/m, `RECORD_DIR=${dir}/applied`);
        const lib = loadScript("docker-lib").replace(/^DOCKER_STARTED=.*$/m, `DOCKER_STARTED=${dir}/stamp`).replace(/^DOCKER_STAMP_DROPIN=.*$/m, `DOCKER_STAMP_DROPIN=${dir}/dropin`);
        const apply = () => {
            fs.rmSync(`${dir}/calls`, { force: true });
            sh(`set -eu\nPATH=${dir}/bin:$PATH\nTLS=no PING_ADDR=127.0.0.1 PORT=2375 FILES=${dir}/daemon.json\n${loadScript("retry-lib")}\n${record}\n${lib}\ndocker_apply >/dev/null`);
            return fs.existsSync(`${dir}/calls`) && fs.readFileSync(`${dir}/calls`, "utf8").includes("restart docker");
        };
        // The restart in its turn (docker-restart), after the previous swarm node's.
        const turn = () => {
            fs.rmSync(`${dir}/calls`, { force: true });
            const out = sh(`set -eu\nPATH=${dir}/bin:$PATH\nTLS=no PING_ADDR=127.0.0.1 PORT=2375 FILES=${dir}/daemon.json\n${loadScript("retry-lib")}\nstep_lock() { :; }\n${lib}\n${loadScript("docker-restart")}`);
            return { restarted: fs.existsSync(`${dir}/calls`) && fs.readFileSync(`${dir}/calls`, "utf8").includes("restart docker"), out };
        };
        const age = (f: string, secondsAgo: number) => fs.utimesSync(f, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));
        fs.writeFileSync(`${dir}/daemon.json`, "{}");
        fs.writeFileSync(`${dir}/dropin`, "");
        age(`${dir}/dropin`, 100);
        age(`${dir}/daemon.json`, 60);
        assert.equal(apply(), true, "not running: started");
        fs.writeFileSync(`${dir}/active`, "");
        fs.rmSync(`${dir}/stamp`);
        assert.equal(apply(), true, "running but never stamped (started before the stack's drop-in): restarted");
        age(`${dir}/stamp`, 30);
        assert.equal(apply(), false, "running since after its config last changed: left alone");
        age(`${dir}/daemon.json`, 10);
        assert.equal(apply(), true, "config written after the daemon started (a run killed before its restart): restarted");
        assert.equal(apply(), false, "and then left alone");
        assert.deepEqual(turn(), { restarted: false, out: "dockerd=current\n" }, "its turn: nothing to do");
        // A swarm node: the Docker step leaves the restart to its turn, which does it.
        fs.writeFileSync(`${dir}/swarm`, "");
        age(`${dir}/stamp`, 30);
        age(`${dir}/daemon.json`, 10);
        assert.equal(apply(), false, "a swarm node does not restart in the Docker step");
        assert.equal(turn().restarted, true, "it restarts in its turn");
        assert.equal(apply(), false, "and then left alone");
        assert.equal(turn().restarted, false, "in every later turn too");
        fs.rmSync(`${dir}/swarm`);
        // What refresh's drift probe reads: the record of what the step wrote, and the daemon's state.
        const drift = () =>
            sh(`set -eu\nPATH=${dir}/bin:$PATH\nFILES=${dir}/daemon.json\n${record}\n${lib}\n${loadScript("docker-drift")}`).trim();
        assert.equal(drift(), "", "as the step left it: no finding");
        fs.writeFileSync(`${dir}/daemon.json`, '{"debug": true}');
        assert.match(drift(), /daemon\.json was edited after the stack wrote it/);
        assert.match(drift(), /runs with an older config than the one on disk/);
        fs.rmSync(`${dir}/active`);
        assert.match(drift(), /dockerd on .* is not running/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("CentOS 7: the stock /etc/sysconfig/docker", () => {
    it("keeps the file's own OPTIONS and lines, adds the API flags, and sources it under set -u", () => {
        // The file of CentOS 7's docker package reads ${DOCKER_CERT_PATH} unset: sourcing it under
        // `set -u` used to fail the step.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-sysconfig-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(`${dir}/bin/systemctl`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        fs.writeFileSync(`${dir}/bin/curl`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        const stock = fs.readFileSync(path.join(__dirname, "fixtures", "centos7-sysconfig-docker"), "utf8");
        fs.writeFileSync(`${dir}/docker`, stock);
        const script = dockerDaemonScript("rhel", { tcpPort: 2375, bindAddress: "0.0.0.0", tls: false })
            .replace(/^STATE=.*$/m, `STATE=${dir}/state`)
            .replace(/^CONF=.*$/m, `CONF=${dir}/docker`)
            .replace(/^DOCKER_STARTED=.*$/m, `DOCKER_STARTED=${dir}/started`)
            .replace(/^DOCKER_STAMP_DROPIN=.*$/m, `DOCKER_STAMP_DROPIN=${dir}/dropin/stamp.conf`)
            .replace(/^step_lock .*$/m, ":");
        const run = () => execFileSync("sh", ["-c", script], { env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` }, encoding: "utf8" });
        run();
        const after = fs.readFileSync(`${dir}/docker`, "utf8");
        assert.match(after, /^OPTIONS='--selinux-enabled --log-driver=journald --signature-verification=false -H unix:\/\/\/var\/run\/docker.sock -H tcp:\/\/0.0.0.0:2375'$/m);
        assert.equal(after.match(/^OPTIONS=/gm)?.length, 1, "one OPTIONS line");
        assert.match(after, /if \[ -z "\$\{DOCKER_CERT_PATH\}" \]; then/, "the file's other lines are kept");
        assert.equal(fs.readFileSync(`${dir}/state/sysconfig.orig`, "utf8"), stock, "the original is saved for destroy");
        run();
        assert.equal(fs.readFileSync(`${dir}/docker`, "utf8"), after, "a second run changes nothing");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("Docker daemon TLS", () => {
    const tls = { tcpPort: 2376, bindAddress: "0.0.0.0", tls: true };
    it("Debian: daemon.json verifies client certificates", () => {
        assert.deepEqual(JSON.parse(dockerDaemonJson(tls)), {
            hosts: ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
            tls: true,
            tlscacert: "/etc/docker/tls/ca.pem",
            tlscert: "/etc/docker/tls/cert.pem",
            tlskey: "/etc/docker/tls/key.pem",
            tlsverify: true,
        });
        const s = dockerDaemonScript("debian", tls);
        assert.match(s, /TLS='yes'/);
        assert.match(s, /docker_tls_files\(\)/, "the material arrives on stdin and is split into files");
        assert.match(s, /https:\/\/\$PING_ADDR:\$PORT\/_ping/);
    });
    it("CentOS 7: the same through OPTIONS flags", () => {
        assert.equal(
            dockerSysconfigFlags(tls),
            "-H unix:///var/run/docker.sock -H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/etc/docker/tls/ca.pem --tlscert=/etc/docker/tls/cert.pem --tlskey=/etc/docker/tls/key.pem",
        );
    });
    it("splits the TLS material on stdin into ca, cert and key files, the key 0600", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-tls-"));
        const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
        const script = `set -eu\nTLS_DIR=${dir}/tls\ntmp=$(mktemp -d)\n${loadScript("docker-tls-files")}\ndocker_tls_files`;
        const input = pem("CERTIFICATE", "CA") + pem("CERTIFICATE", "SERVER") + pem("EC PRIVATE KEY", "KEY");
        sh(script, input);
        assert.match(fs.readFileSync(`${dir}/tls/ca.pem`, "utf8"), /\nCA\n/);
        assert.match(fs.readFileSync(`${dir}/tls/cert.pem`, "utf8"), /\nSERVER\n/);
        assert.equal(fs.statSync(`${dir}/tls/key.pem`).mode & 0o777, 0o600);
        const mtime = fs.statSync(`${dir}/tls/key.pem`).mtimeMs;
        sh(script, input);
        assert.equal(fs.statSync(`${dir}/tls/key.pem`).mtimeMs, mtime, "the same material is not written again");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("Consul config", () => {
    const base = {
        datacenter: "dc1",
        nodeName: "consul01",
        address: "10.0.0.2",
        server: true,
        ui: true,
        logLevel: "INFO",
    };
    it("renders a server's config with sorted keys (retry_join lives in a file of its own)", () => {
        assert.equal(
            consulAgentConfig(base),
            JSON.stringify(
                {
                    advertise_addr: "10.0.0.2",
                    autopilot: {
                        cleanup_dead_servers: true,
                        last_contact_threshold: "200ms",
                        max_trailing_logs: 250,
                        server_stabilization_time: "10s",
                    },
                    bind_addr: "10.0.0.2",
                    client_addr: "0.0.0.0",
                    data_dir: "/opt/consul",
                    datacenter: "dc1",
                    disable_update_check: true,
                    log_level: "INFO",
                    node_name: "consul01",
                    performance: { raft_multiplier: 1 },
                    ports: { dns: 8600 },
                    rejoin_after_leave: true,
                    server: true,
                    telemetry: { disable_hostname: true, prometheus_retention_time: "60s" },
                    ui_config: { enabled: true },
                },
                null,
                2,
            ) + "\n",
        );
    });
    it("production defaults: each can be overridden through consul.options, key by key; clients get no autopilot", () => {
        const c = JSON.parse(
            consulAgentConfig({
                ...base,
                options: { performance: { raft_multiplier: 5 }, autopilot: { server_stabilization_time: "30s" }, disable_update_check: false },
            }),
        );
        assert.deepEqual(c.performance, { raft_multiplier: 5 });
        assert.equal(c.autopilot.server_stabilization_time, "30s");
        assert.equal(c.autopilot.cleanup_dead_servers, true, "the other autopilot defaults stay");
        assert.equal(c.disable_update_check, false);
        assert.equal(JSON.parse(consulAgentConfig({ ...base, server: false })).autopilot, undefined);
        assert.deepEqual(JSON.parse(consulAgentConfig({ ...base, dns: false })).ports, { dns: -1 }, "dns: false turns DNS off");
    });
    it("carries the gossip key only when given; never `bootstrap` or `bootstrap_expect`", () => {
        const c = JSON.parse(consulAgentConfig({ ...base, encrypt: "k3y" }));
        assert.equal(c.bootstrap_expect, undefined, "bootstrap_expect lives in a file of its own, so a new server count restarts nothing");
        assert.equal(c.encrypt, "k3y");
        assert.equal(c.bootstrap, undefined, "bootstrap lives in its own file, written on the first start only");
        const plain = JSON.parse(consulAgentConfig(base));
        assert.equal(plain.bootstrap_expect, undefined);
        assert.equal(plain.encrypt, undefined);
    });
    const acl = { managementToken: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", agentToken: "11111111-2222-4333-8444-555555555555" };
    it("turns ACLs on with default deny: servers hold the management token, every agent its own least-privilege token", () => {
        assert.deepEqual(JSON.parse(consulAgentConfig({ ...base, acl })).acl, {
            default_policy: "deny",
            enable_token_persistence: true,
            enabled: true,
            tokens: { agent: acl.agentToken, initial_management: acl.managementToken },
        });
        assert.deepEqual(JSON.parse(consulAgentConfig({ ...base, server: false, acl })).acl.tokens, { agent: acl.agentToken }, "no management token on a client");
        assert.equal(uuidFromHex("ab".repeat(16)), "abababab-abab-4bab-abab-abababababab");
    });
    it("keeps a token for the stack's own checks in a root-only file: the management one on servers, the agent's on clients", () => {
        const lines = loadScript("consul-service").split("\n");
        const from = lines.findIndex((l) => l.startsWith("script_token="));
        const script = lines.slice(from, from + 2).join("\n");
        const extract = (cfg: string) => sh(`tmp=$(mktemp -d); mkdir "$tmp/new"; cat > "$tmp/new/consul.json"; ${script}; printf '%s' "$script_token"`, cfg);
        assert.equal(extract(consulAgentConfig({ ...base, acl })), acl.managementToken);
        assert.equal(extract(consulAgentConfig({ ...base, server: false, acl })), acl.agentToken);
    });
    it("TLS: RPC verified both ways with server hostnames, HTTPS on 8501", () => {
        const c = JSON.parse(consulAgentConfig({ ...base, tls: true }));
        assert.deepEqual(c.ports, { dns: 8600, https: 8501 });
        assert.deepEqual(c.tls.internal_rpc, { verify_incoming: true, verify_server_hostname: true });
        assert.equal(c.tls.defaults.verify_outgoing, true);
        assert.equal(c.tls.defaults.ca_file, "/etc/consul.d/tls/ca.pem");
        assert.equal(JSON.parse(consulAgentConfig(base)).tls, undefined);
    });
    it("splits its stdin into the TLS material and the config", () => {
        const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
        const cfg = consulAgentConfig(base);
        const split = loadScript("consul-service").split("\n");
        const start = split.findIndex((l) => l.startsWith("awk -v d="));
        const awk = split.slice(start, start + 4).join("\n");
        const out = sh(`tmp=$(mktemp -d); mkdir "$tmp/new"; ${awk}; cat "$tmp/pem1" "$tmp/pem2" "$tmp/pem3" | grep -v -- -----; echo ==; cat "$tmp/new/consul.json"`, pem("CERTIFICATE", "CA") + pem("CERTIFICATE", "AGENT") + pem("EC PRIVATE KEY", "KEY") + cfg);
        assert.equal(out, `CA\nAGENT\nKEY\n==\n${cfg}`);
    });
    it("restarts an agent that runs with older files, but never for retry_join or bootstrap_expect (read at a first start only)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-consul-current-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.mkdirSync(`${dir}/consul.d`);
        fs.writeFileSync(`${dir}/bin/systemctl`, '#!/bin/sh\ncase "$*" in "show -p MainPID consul") echo MainPID=1;; esac\nexit 0\n', { mode: 0o755 });
        const lib = loadScript("consul-lib").replace(/^CONSUL_STARTED=.*$/m, `CONSUL_STARTED=${dir}/started`);
        const current = () => sh(`PATH=${dir}/bin:$PATH\nCONFIG_DIR=${dir}/consul.d\n${lib}\nif consul_agent_current; then echo yes; else echo no; fi`).trim();
        const age = (f: string, secondsAgo: number) => fs.utimesSync(f, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));
        for (const f of ["consul.json", "retry-join.json", "bootstrap-expect.json"]) {
            fs.writeFileSync(`${dir}/consul.d/${f}`, "{}");
            age(`${dir}/consul.d/${f}`, 60);
        }
        fs.writeFileSync(`${dir}/started`, "");
        age(`${dir}/started`, 30);
        assert.equal(current(), "yes");
        fs.writeFileSync(`${dir}/consul.d/bootstrap-expect.json`, '{"bootstrap_expect": 5}');
        fs.writeFileSync(`${dir}/consul.d/retry-join.json`, '{"retry_join": ["10.0.0.9"]}');
        assert.equal(current(), "yes", "a new server count or server list restarts nothing");
        fs.writeFileSync(`${dir}/consul.d/consul.json`, '{"log_level": "DEBUG"}');
        assert.equal(current(), "no", "a changed config does");
        fs.rmSync(dir, { recursive: true, force: true });
    });
    it("bootstraps only on the first start, and reads its config from stdin", () => {
        const s = consulServiceScript({ nodeName: "consulsvr", server: true, peers: ["10.0.0.2"], bootstrap: true, waitSeconds: 60, binarySha256: "ab" });
        assert.match(s, /BOOTSTRAP='yes'/);
        assert.match(s, /if \[ "\$BOOTSTRAP" = yes \] && \[ ! -e "\$DATA_DIR\/raft\/raft.db" \] && ! cluster_runs_elsewhere; then/);
        assert.match(s, /PEERS='10.0.0.2'/);
        assert.match(s, /\{ print > \(d "\/new\/consul.json"\) \}/);
        assert.match(consulServiceScript({ nodeName: "consul01", server: true, peers: [], bootstrap: false, waitSeconds: 60, binarySha256: "ab" }), /BOOTSTRAP='no'/);
    });
});

describe("step ownership on a host", () => {
    it("a delete acts only while its step still owns the part: not after a renamed host's new step claimed it, not on a new machine", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-owner-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(`${dir}/bin/docker`, `#!/bin/sh\necho "$*" >> ${dir}/docker-calls\n`, { mode: 0o755 });
        const onHost = (script: string) => {
            fs.rmSync(`${dir}/docker-calls`, { force: true });
            const out = execFileSync("sh", ["-c", script.replace(/^OWNERS=.*$/m, `OWNERS=${dir}/owners`)], {
                env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` },
                encoding: "utf8",
            });
            return { out, left: fs.existsSync(`${dir}/docker-calls`) };
        };
        const claim = (id: string) => onHost(renderScript("swarm-node-claim", {}, [], { part: "swarm", id, action: "claim" }));
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

describe("quorum guard", () => {
    it("refuses a change that takes more servers out at once than the cluster can lose, and lets the rest through", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-quorum-"));
        fs.mkdirSync(`${dir}/bin`);
        const raft = (nodes: string[]) =>
            JSON.stringify({ Servers: nodes.map((n) => ({ ID: n, Node: n, Address: `${n}:8300`, Leader: false, ProtocolVersion: "3", Voter: true })), Index: 1 });
        const guard = (voters: string[] | undefined, expected: string[]) => {
            fs.writeFileSync(`${dir}/bin/curl`, voters ? `#!/bin/sh\ncat >/dev/null 2>&1 || true\nprintf '%s' '${raft(voters)}'\n` : "#!/bin/sh\nexit 7\n", { mode: 0o755 });
            const script = renderScript("consul-quorum-guard", { EXPECTED_SERVER_NODES: expected.join(" "), TOKEN_FILE: `${dir}/no-token` }, ["consul-lib"]);
            return spawnSync("sh", ["-c", script], { env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` }, encoding: "utf8" });
        };
        let r = guard(["c", "a", "b"], ["a"]);
        assert.equal(r.status, 10);
        assert.match(r.stderr, /hosts: this change takes 2 of the 3 Consul servers out at once: b c; a cluster of 3 keeps its quorum losing at most 1\. No server was taken out/);
        assert.equal(guard(["a", "b", "c"], ["a", "b"]).status, 0, "one of three: allowed");
        assert.equal(guard(["a", "b", "c"], ["a", "b", "d"]).status, 0, "a rename takes one out: allowed");
        assert.equal(guard(["a", "b", "c", "d", "e"], ["a", "b", "c"]).status, 0, "two of five: allowed");
        assert.equal(guard(["a", "b", "c", "d", "e"], ["a", "b"]).status, 10, "three of five: refused");
        r = guard(undefined, ["a"]);
        assert.equal(r.status, 0, "no cluster running yet: nothing to protect");
        assert.match(r.stdout, /no running cluster/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("DNS forwarding", () => {
    it("points dnsmasq's consul domain at the agent, finishes a run killed before the restart, and takes it away", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-dns-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(`${dir}/bin/systemctl`, `#!/bin/sh\necho "$*" >> ${dir}/calls\ncase "$1" in is-active) exit 1;; esac\n`, { mode: 0o755 });
        fs.writeFileSync(`${dir}/bin/dnsmasq`, "#!/bin/sh\n", { mode: 0o755 });
        const lib = loadScript("consul-dns-lib")
            .replace(/^DNS_RESOLVED_CONF=.*$/m, `DNS_RESOLVED_CONF=${dir}/resolved.conf`)
            .replace(/^DNS_DNSMASQ_CONF=.*$/m, `DNS_DNSMASQ_CONF=${dir}/dnsmasq.d/10-consul-swarm`)
            .replace(/^DNS_PENDING=.*$/m, `DNS_PENDING=${dir}/state/pending`);
        const run = (forward: string) => {
            fs.rmSync(`${dir}/calls`, { force: true });
            const out = sh(`set -eu\nPATH=${dir}/bin:$PATH\ntmp=$(mktemp -d)\nDNS_FORWARD=${forward} DNS_PORT=8600\n${lib}\nconsul_dns_forwarding`);
            const calls = fs.existsSync(`${dir}/calls`) ? fs.readFileSync(`${dir}/calls`, "utf8") : "";
            return { out, restarted: calls.includes("restart dnsmasq") };
        };
        let r = run("yes");
        assert.equal(fs.readFileSync(`${dir}/dnsmasq.d/10-consul-swarm`, "utf8"), "server=/consul/127.0.0.1#8600\n");
        assert.ok(r.restarted && /dns_forwarding=dnsmasq/.test(r.out));
        assert.equal(run("yes").restarted, false, "nothing changed: no restart");
        // A run killed after writing, before restarting, leaves its marker: the next one restarts.
        fs.mkdirSync(`${dir}/state`, { recursive: true });
        fs.writeFileSync(`${dir}/state/pending`, "");
        assert.equal(run("yes").restarted, true);
        assert.equal(fs.existsSync(`${dir}/state/pending`), false);
        r = run("no");
        assert.ok(r.restarted && !fs.existsSync(`${dir}/dnsmasq.d/10-consul-swarm`), "turned off: the file goes, dnsmasq restarts");
        fs.rmSync(`${dir}/bin/dnsmasq`);
        assert.throws(() => run("yes"), /neither systemd-resolved nor dnsmasq/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("parsers", () => {
    it("reads host facts: CentOS 7 is rhel, Debian is debian", () => {
        assert.deepEqual(parseHostFacts("os_id=centos\nos_version=7\nos_like=rhel fedora\ninit=systemd\nhostname=consulsvr\n"), {
            osId: "centos",
            osVersion: "7",
            osFamily: "rhel",
            initSystem: "systemd",
            hostname: "consulsvr",
        });
        assert.equal(parseHostFacts("os_id=debian\nos_version=12\n").osFamily, "debian");
        assert.equal(parseHostFacts("os_id=rocky\nos_like=rhel centos fedora\n").osFamily, "rhel");
    });
    it("reads the cluster status and names the leader", () => {
        const s = parseClusterStatus(
            "leader=10.0.0.1:8300\nmember=consul01 10.0.0.2:8301 alive server\nmember=consulsvr 10.0.0.1:8301 alive server\n",
        );
        assert.equal(s.leader, "consulsvr");
        assert.equal(s.leaderAddress, "10.0.0.1:8300");
        assert.deepEqual(
            s.members.map((m) => m.name),
            ["consul01", "consulsvr"],
        );
    });
    it("reads swarm nodes", () => {
        assert.deepEqual(parseSwarmNodes("node=b Ready Active \nnode=a Ready Active Leader\nnoise\n"), [
            { hostname: "a", status: "Ready", availability: "Active", manager: "Leader" },
            { hostname: "b", status: "Ready", availability: "Active", manager: "" },
        ]);
    });
});

describe("scripts as they go to a host", () => {
    it("lose their comment and blank lines, nothing else", () => {
        assert.equal(stripComments("a\n  # why\n\nb # kept: not a whole line\n"), "a\nb # kept: not a whole line\n");
    });
    it("have no here-document, and each still parses as sh once its comments are gone", () => {
        const dir = path.join(__dirname, "..", "..", "components", "scripts");
        for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".sh"))) {
            const text = fs.readFileSync(path.join(dir, f), "utf8");
            assert.doesNotMatch(text, /<<-?\s*['"]?\w/, `${f}: a here-document could hold lines that start with #`);
            const r = spawnSync("sh", ["-n"], { input: loadScript(f.replace(/\.sh$/, "")), encoding: "utf8" });
            assert.equal(r.status, 0, `${f}: ${r.stderr}`);
        }
    });
});
