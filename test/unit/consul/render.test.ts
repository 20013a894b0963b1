// The Consul parts' config, scripts and parsers; the scripts' decisions run against stand-in commands.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { consulAgentConfig, consulBootstrapExpectConfig, consulRetryJoinConfig, consulServiceScript, parseClusterStatus, uuidFromHex } from "../../../components/consul/render";
import { loadScript, renderScript } from "../../../components/shared/script";

/** Runs a script under sh with a fake PATH-free environment and returns what it prints. */
function sh(script: string, input?: string): string {
    return execFileSync("sh", ["-c", script], { input, encoding: "utf8" });
}

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
                        server_stabilization_time: "5s",
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
        const c = JSON.parse(consulAgentConfig({ ...base, tlsStage: 3 }));
        assert.deepEqual(c.ports, { dns: 8600, https: 8501 });
        assert.deepEqual(c.tls.internal_rpc, { verify_incoming: true, verify_server_hostname: true });
        assert.equal(c.tls.defaults.verify_outgoing, true);
        assert.equal(c.tls.defaults.ca_file, "/etc/consul.d/tls/ca.pem");
        assert.equal(JSON.parse(consulAgentConfig(base)).tls, undefined);
    });
    it("TLS stages on a running cluster: certificates and HTTPS first, then TLS sent, then plain refused; stage 3 is the steady state's bytes", () => {
        const at = (tlsStage: 0 | 1 | 2 | 3) => JSON.parse(consulAgentConfig({ ...base, tlsStage }));
        assert.equal(at(0).tls, undefined);
        assert.deepEqual(at(0).ports, { dns: 8600 });
        for (const stage of [1, 2, 3] as const) {
            assert.deepEqual(at(stage).ports, { dns: 8600, https: 8501 }, `stage ${stage} serves HTTPS`);
            assert.equal(at(stage).tls.defaults.cert_file, "/etc/consul.d/tls/cert.pem");
        }
        const rpc = (stage: 1 | 2 | 3) => [at(stage).tls.defaults.verify_outgoing, at(stage).tls.internal_rpc.verify_incoming, at(stage).tls.internal_rpc.verify_server_hostname];
        assert.deepEqual(rpc(1), [false, false, false], "stage 1 sends plain, accepts both");
        assert.deepEqual(rpc(2), [true, false, true], "stage 2 sends TLS, still accepts plain");
        assert.deepEqual(rpc(3), [true, true, true], "stage 3 refuses plain");
    });
    it("renders retry_join and bootstrap_expect for files of their own, the servers sorted", () => {
        assert.deepEqual(JSON.parse(consulRetryJoinConfig(["10.0.0.3", "10.0.0.2"])), { retry_join: ["10.0.0.2", "10.0.0.3"] });
        assert.deepEqual(JSON.parse(consulBootstrapExpectConfig(3)), { bootstrap_expect: 3 });
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
        assert.match(s, /BOOTSTRAP_JSON='\{"bootstrap":true\}\n'/);
        assert.match(s, /if \[ -n "\$BOOTSTRAP_JSON" \] && \[ ! -e "\$DATA_DIR\/raft\/raft.db" \] && ! cluster_runs_elsewhere; then/);
        assert.match(s, /PEERS='10.0.0.2'/);
        assert.match(s, /\{ print > \(d "\/new\/consul.json"\) \}/);
        assert.match(consulServiceScript({ nodeName: "consul01", server: true, peers: [], bootstrap: false, waitSeconds: 60, binarySha256: "ab" }), /BOOTSTRAP_JSON=''/);
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

describe("verify step", () => {
    it("finds raft peers of the stack's hosts that are no server of it (a server made a client, one taken out), never a server the member list shows alive, never a peer of no host of the stack", () => {
        const fn = /^stale_peers\(\) \{[\s\S]*?^\}$/m.exec(loadScript("consul-verify"))?.[0];
        assert.ok(fn, "consul-verify.sh defines stale_peers");
        const members = [
            "Node Address Status Type",
            "consul01 10.0.0.2:8301 alive server",
            "consulsvr 10.0.0.1:8301 alive server",
            "consul03 10.0.0.4:8301 alive client",
            "consul05 10.0.0.6:8301 alive server",
            "consul06 10.0.0.7:8301 failed server",
            "handsrv 10.0.0.9:8301 failed server",
        ].join("\n");
        const peer = (id: string, node: string, ip: string) => ({ ID: id, Node: node, Address: `${ip}:8300`, Leader: false, ProtocolVersion: "3", Voter: true });
        const raft = JSON.stringify({
            Servers: [
                peer("id-svr", "consulsvr", "10.0.0.1"),
                peer("id-01", "consul01", "10.0.0.2"),
                // consul03, a client now: raft still has it, under no name
                peer("id-03", "(unknown)", "10.0.0.4"),
                // consul05, an alive server this update takes out later (its own delete): not yet named here
                peer("id-05", "(unknown)", "10.0.0.6"),
                // consul06, failed and no longer in the stack
                peer("id-06", "consul06", "10.0.0.7"),
                // consul02, in the stack but not answering: never touched here
                peer("id-02", "consul02", "10.0.0.3"),
                // a server an operator joined by hand, failed: not the stack's
                peer("id-hand", "handsrv", "10.0.0.9"),
                // one of no host of the stack that raft knows by no name: not the stack's either
                peer("id-other", "(unknown)", "10.0.0.10"),
            ],
            Index: 1,
        });
        const out = sh(
            `EXPECTED_SERVER_NODES='consulsvr consul01 consul02'\nEXPECTED_NODES='consulsvr consul01 consul02 consul03'\nDEPARTED_NODES='consul05 consul06'\nSTACK_ADDRESSES='10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.6 10.0.0.7'\nconsul() { printf '%s\\n' '${members}' | awk -v a="$*" 'NR == 1 || index(a, "-status=alive") == 0 || $3 == "alive"'; }\nconsul_api() { printf '%s' '${raft}'; }\n${fn}\nstale_peers`,
        );
        assert.deepEqual(out.trim().split("\n"), ["id-03 (unknown)", "id-06 consul06"]);
    });
});

describe("verify step's pruning", () => {
    it("force-leaves failed or left members the stack once had, never its own, one an operator joined, or one whose node id a live member holds", () => {
        const fn = /^prune_gone\(\) \{[\s\S]*?^\}$/m.exec(loadScript("consul-verify"))?.[0];
        assert.ok(fn, "consul-verify.sh defines prune_gone");
        const detailed = [
            "Node Address Status Tags",
            "consulsvr 10.0.0.1:8301 alive role=consul,id=a1",
            "consul02 10.0.0.3:8301 failed role=consul,id=a2",
            "consul06 10.0.0.7:8301 failed role=consul,id=a6",
            "consul07 10.0.0.8:8301 left role=consul,id=a7",
            "consul04 10.0.0.3:8301 failed role=consul,id=a1",
            "handjoined 10.0.0.2:8311 failed role=node,id=h1",
        ].join("\n");
        const out = sh(
            `EXPECTED_NODES='consulsvr consul01 consul02'\nDEPARTED_NODES='consul04 consul06 consul07'\n` +
                `consul() { case "$1" in members) printf '%s\\n' '${detailed}' ;; force-leave) echo "force-leave $3" >&3 ;; esac; }\n${fn}\nprune_gone 3>&1 2>/dev/null`,
        );
        assert.deepEqual(out.trim().split("\n").sort(), ["force-leave consul06", "force-leave consul07"]);
    });
});

describe("a server's restart in a degraded cluster", () => {
    const server = (name: string, healthy: boolean, voter = true) =>
        `{"ID":"id-${name}","Name":"${name}","Address":"10.0.0.1:8300","SerfStatus":"alive","Leader":false,"Healthy":${healthy},"Voter":${voter},"StableSince":"x"}`;
    const health = (healthy: boolean, tolerance: number, servers: string[]) => `{"Healthy":${healthy},"FailureTolerance":${tolerance},"Servers":[${servers.join(",")}]}`;
    const mayLeave = (node: string, answer: string | undefined, serverRole = "yes") => {
        const fn = /^consul_may_leave\(\) \{[\s\S]*?^\}$/m.exec(loadScript("consul-lib"))?.[0];
        assert.ok(fn, "consul-lib.sh defines consul_may_leave");
        const api = answer === undefined ? "consul_api_body() { printf %s \"No cluster leader\"; }" : `consul_api_body() { printf '%s' '${answer}'; }`;
        return sh(`NODE=${node}\nSERVER=${serverRole}\n${api}\n${fn}\nif consul_may_leave; then echo yes; else echo "no: $degraded_why"; fi`).trim();
    };

    it("may restart a server of a healthy cluster, of one that can spare a failure, or with no leader to ask", () => {
        assert.equal(mayLeave("consul01", health(true, 1, [server("consulsvr", true), server("consul01", true), server("consul02", true)])), "yes");
        assert.equal(mayLeave("consul01", health(true, 0, [server("consulsvr", true), server("consul01", true)])), "yes", "two healthy servers: nothing degraded");
        assert.equal(mayLeave("consul01", health(false, 1, ["a", "b", "c", "consul02"].map((n) => server(n, true)).concat(server("consul01", true), server("x", false)))), "yes", "five of six healthy");
        assert.equal(mayLeave("consul01", undefined), "yes", "no leader: no health to keep");
        assert.equal(mayLeave("consul03", health(false, 0, [server("consulsvr", true), server("consul01", true), server("consul02", false)]), "no"), "yes", "a client");
    });

    it("does not take a healthy voter out of a degraded cluster with no failure to spare, naming the unhealthy", () => {
        const degraded = health(false, 0, [server("consulsvr", true), server("consul01", true), server("consul02", false)]);
        assert.equal(mayLeave("consul01", degraded), "no: consul02");
        assert.equal(mayLeave("consul02", degraded), "yes", "the unhealthy one itself goes first: that is how a revert repairs it");
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
});

describe("the URL install's download", () => {
    it("gives up within its bound on a server that accepts and never answers, naming the URL and the bound", async () => {
        const net = await import("node:net");
        const held: import("node:net").Socket[] = [];
        const server = net.createServer((s) => held.push(s)); // accepts, never answers
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as import("node:net").AddressInfo).port;
        // The script's own bounds (30 s to connect, 600 s a try, 3 retries) made short for the test.
        const script = loadScript("consul-install-url").replace("--connect-timeout 30 --max-time 600 --retry 3", "--connect-timeout 2 --max-time 2 --retry 0");
        assert.notEqual(script, loadScript("consul-install-url"), "the bounds are where the test expects them");
        const t0 = Date.now();
        const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
            const child = spawn("sh", ["-c", `set -eu\nURL='http://127.0.0.1:${port}/consul_1.14.11_linux_amd64.zip'\nSHA256=x\nBINARY_SHA=x\n${script}`]);
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("close", (status) => resolve({ status, stderr }));
        });
        held.forEach((s) => s.destroy());
        server.close();
        assert.equal(r.status, 4);
        assert.ok(Date.now() - t0 < 10_000, `gave up after ${Date.now() - t0} ms`);
        assert.match(r.stderr, /could not download http:\/\/127\.0\.0\.1:\d+\/consul_1\.14\.11_linux_amd64\.zip \(curl exit 28; waited at most 30 s to connect and 600 s per try, 3 retries\)/);
    });
});

describe("the file install", () => {
    it("checks the copy it installs, not the upload in world-writable /var/tmp, and leaves nothing of a wrong one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-install-file-"));
        fs.mkdirSync(`${dir}/bin`);
        const script = loadScript("consul-install-file").replaceAll("/usr/local/bin", `${dir}/bin`);
        const good = "#!/bin/sh\necho 'Consul v1.14.11'\n";
        const sha = execFileSync("sha256sum", { input: good, encoding: "utf8" }).split(" ")[0];
        const run = () => spawnSync("sh", ["-c", `set -eu\nUPLOAD='${dir}/upload'\nSHA256='${sha}'\n${script}`], { encoding: "utf8" });
        fs.writeFileSync(`${dir}/upload`, "#!/bin/sh\necho swapped\n");
        let r = run();
        assert.equal(r.status, 5);
        assert.match(r.stderr, /does not match SHA-256/);
        assert.deepEqual(fs.readdirSync(`${dir}/bin`), [], "nothing installed, no consul.new left");
        fs.writeFileSync(`${dir}/upload`, good);
        r = run();
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "Consul v1.14.11");
        assert.equal(fs.existsSync(`${dir}/upload`), false, "the upload is consumed");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
