// End to end: the real engine (the project's own CLI through the Automation API) brings the
// tutorial's cluster up on three lab hosts, and the test checks it from outside, over the lab
// network, the way an operator would. Run by scripts/test-e2e.sh (which provides the toolchain,
// the Docker engine and the lab image).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import * as dns from "node:dns/promises";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { EngineEvent, LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { changed, consulRpc, dockerCertPath, dockerTls, eventually, explained, findDrift, httpsGet, labTools, log } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const NETWORK = "consul-swarm-e2e";
const SUBNET = "10.214.0.0/24";
const HOSTS = [
    { name: "consulsvr", address: "10.214.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.214.0.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "10.214.0.113", roles: ["consul-server", "swarm-agent"] },
];
const container = (host: string) => `${NETWORK}-${host}`;
/** The day-2 change the rolling tests make: a log level, and one production default overridden. */
const ROLLING_CHANGE = { logLevel: "DEBUG", options: { telemetry: { prometheus_retention_time: "30s" } } };

function baseConfig(consulExtra: Record<string, unknown> = {}) {
    return {
        "consul-swarm:lab": { value: JSON.stringify({ subnet: SUBNET, networkName: NETWORK }) },
        "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" }, dnsForwarding: true, ...consulExtra }) },
        "consul-swarm:hosts": { value: JSON.stringify(HOSTS) },
    };
}

/** The ACL token the tests use (the stack's aclBootstrapToken output), set once the stack is up. */
let token = "";
const { withToken, http, json, onHost, consulCli, pollers, haltPollers, kvReader } = labTools(NETWORK, () => token);

/** The steps on hosts (remote commands and copies) an operation started, from its engine events. */
function stepsOnHosts() {
    const steps: string[] = [];
    const onEvent = (e: EngineEvent) => {
        const m = e.resourcePreEvent?.metadata;
        if (m && m.op !== "same" && m.op !== "read" && m.type.startsWith("command:remote:")) {
            steps.push(`${m.op} ${m.urn.slice(m.urn.lastIndexOf("::") + 2)}`);
        }
    };
    return { steps, onEvent };
}


describe("the tutorial's cluster on three lab hosts", { timeout: 45 * 60 * 1000 }, () => {
    let stack: Stack;
    let outputs: OutputMap;
    const seed = `http://${HOSTS[0].address}:8500`;

    before(async () => {
        stack = await LocalWorkspace.createOrSelectStack({ stackName: "e2e", workDir: repo });
        await stack.setAllConfig(baseConfig());
        const t0 = Date.now();
        const up = await stack.up({ onOutput: (o) => process.stderr.write(o) });
        log(`cold up: ${((Date.now() - t0) / 1000).toFixed(0)}s, ${JSON.stringify(up.summary.resourceChanges)}`);
        outputs = up.outputs;
        token = String(outputs.aclBootstrapToken.value);
    });

    after(async () => {
        haltPollers();
        if (!stack) {
            return;
        }
        const d = await stack.destroy({ onOutput: (o) => process.stderr.write(o) });
        log(`destroy: ${JSON.stringify(d.summary.resourceChanges)}`);
        // This lab's names only (consul-swarm-e2e-<host>, …-<host>-docker): other files' labs
        // (consul-swarm-e2e-ha-…) may be running beside this one.
        const left = (kind: string, pattern: string) =>
            execFileSync("docker", [kind, "ls", "-q", "--filter", `name=${pattern}`], { encoding: "utf8" }).trim();
        const containers = execFileSync("docker", ["ps", "-aq", "--filter", `name=^/?${NETWORK}-[a-z0-9]+$`], { encoding: "utf8" }).trim();
        assert.equal(containers, "", "destroy leaves no lab container");
        assert.equal(left("network", `^${NETWORK}$`), "", "destroy leaves no lab network");
        assert.equal(left("volume", `^${NETWORK}-[a-z0-9]+-docker$`), "", "destroy leaves no lab volume");
        await stack.workspace.removeStack("e2e");
    });

    it("every host's `consul members` shows 3 alive servers", () => {
        for (const h of HOSTS) {
            const rows = consulCli(h.name, "members")
                .trim()
                .split("\n")
                .slice(1)
                .map((l) => l.split(/\s+/));
            assert.deepEqual(
                rows.map((r) => [r[0], r[2], r[3]]).sort(),
                [
                    ["consul01", "alive", "server"],
                    ["consul02", "alive", "server"],
                    ["consulsvr", "alive", "server"],
                ],
                `consul members on ${h.name}`,
            );
        }
    });

    it("the HTTP API over the lab network: a leader, 3 peers, 3 catalog nodes, the UI", async () => {
        for (const h of HOSTS) {
            const base = `http://${h.address}:8500`;
            assert.match(await json<string>(`${base}/v1/status/leader`), /^10\.214\.0\.11[123]:8300$/);
            assert.equal((await json<string[]>(`${base}/v1/status/peers`)).length, 3);
            const nodes = await json<{ Node: string }[]>(`${base}/v1/catalog/nodes`);
            assert.deepEqual(nodes.map((n) => n.Node).sort(), ["consul01", "consul02", "consulsvr"]);
            const ui = await http(`${base}/ui/`);
            assert.equal(ui.status, 200);
            assert.match(ui.body, /consul/i);
        }
    });

    it("a KV write on one server is read back from another", async () => {
        const value = `written-${Date.now()}`;
        const put = await http(`http://${HOSTS[1].address}:8500/v1/kv/e2e/check`, { method: "PUT", body: value, ...withToken() });
        assert.equal(put.status, 200);
        assert.equal((await http(`http://${HOSTS[2].address}:8500/v1/kv/e2e/check?raw`, withToken())).body, value);
    });

    it("ACLs deny by default: anonymous KV reads are refused (names only, for DNS), the bootstrap token works", async () => {
        assert.ok(outputs.aclBootstrapToken.secret, "aclBootstrapToken is a secret output");
        for (const h of HOSTS) {
            const anonymous = await http(`http://${h.address}:8500/v1/kv/e2e/check`);
            assert.equal(anonymous.status, 403, `anonymous KV read on ${h.name}: ${anonymous.status} ${anonymous.body}`);
            assert.equal((await http(`http://${h.address}:8500/v1/kv/e2e/check?raw`, withToken())).status, 200);
            // Consul 1.14's DNS answers with the anonymous token: it reads node and service names, nothing else.
            const names = JSON.parse((await http(`http://${h.address}:8500/v1/catalog/nodes`)).body) as { Node: string }[];
            assert.deepEqual(names.map((n) => n.Node).sort(), ["consul01", "consul02", "consulsvr"], "anonymous: node names, for DNS");
            const anonWrite = await http(`http://${h.address}:8500/v1/kv/e2e/anon`, { method: "PUT", body: "x" });
            assert.equal(anonWrite.status, 403, "anonymous KV write");
        }
        const wrong = await http(`${seed}/v1/kv/e2e/check`, { headers: { "X-Consul-Token": "00000000-0000-4000-8000-000000000000" } });
        assert.equal(wrong.status, 403);
        // The agents run with a least-privilege token of their own, not the management token.
        const agentToken = onHost("consul01", "jq -r .acl.tokens.agent /etc/consul.d/consul.json").trim();
        assert.match(agentToken, /^[0-9a-f-]{36}$/);
        assert.notEqual(agentToken, token);
        const self = JSON.parse((await http(`${seed}/v1/acl/token/self`, { headers: { "X-Consul-Token": agentToken } })).body);
        assert.deepEqual(self.Policies.map((p: { Name: string }) => p.Name), ["consul-swarm-agent"]);
        const write = await http(`${seed}/v1/kv/e2e/check`, { method: "PUT", body: "x", headers: { "X-Consul-Token": agentToken } });
        assert.equal(write.status, 403, "the agent token cannot write KV");
    });

    it("production defaults: autopilot, metrics behind a token, DNS on 8600, fast raft, no update check", async () => {
        const autopilot = await json<Record<string, unknown>>(`${seed}/v1/operator/autopilot/configuration`);
        assert.equal(autopilot.CleanupDeadServers, true);
        assert.equal(autopilot.LastContactThreshold, "200ms");
        assert.equal(autopilot.ServerStabilizationTime, "5s");
        assert.equal(autopilot.MaxTrailingLogs, 250);
        for (const h of HOSTS) {
            const metrics = await http(`http://${h.address}:8500/v1/agent/metrics?format=prometheus`, withToken());
            assert.equal(metrics.status, 200);
            assert.match(metrics.body, /^consul_raft_/m, `Prometheus metrics on ${h.name}`);
            const anonymous = await http(`http://${h.address}:8500/v1/agent/metrics?format=prometheus`);
            assert.equal(anonymous.status, 403, `anonymous metrics on ${h.name}: ${anonymous.status}`);
            const cfg = JSON.parse(onHost(h.name, "cat /etc/consul.d/consul.json"));
            assert.equal(cfg.disable_update_check, true);
            assert.deepEqual(cfg.performance, { raft_multiplier: 1 });
            const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
            resolver.setServers([`${h.address}:8600`]);
            assert.deepEqual((await resolver.resolve4("consul.service.consul")).sort(), HOSTS.map((x) => x.address).sort(), `consul.service.consul from ${h.name}`);
            for (const other of HOSTS) {
                assert.deepEqual(await resolver.resolve4(`${other.name}.node.consul`), [other.address], `${other.name}.node.consul from ${h.name}`);
            }
            // consul.dnsForwarding: the host's own resolver (dnsmasq on the lab image) forwards the consul domain.
            const hostResolver = new dns.Resolver({ timeout: 3000, tries: 2 });
            hostResolver.setServers([`${h.address}:53`]);
            assert.deepEqual((await hostResolver.resolve4("consul.service.consul")).sort(), HOSTS.map((x) => x.address).sort(), `the host resolver of ${h.name}`);
        }
    });

    it("Consul TLS: HTTPS with the stack's CA, and RPC only with a certificate from that CA", async () => {
        const ca = String(outputs.consulCaCert.value);
        for (const h of HOSTS) {
            assert.match(await httpsGet(`https://${h.address}:8501/v1/status/leader`, { ca }), /^"10\.214\.0\.11[123]:8300"$/, `HTTPS on ${h.name}`);
        }
        assert.equal(outputs.consulHttpsAddr.value, `https://${HOSTS[0].address}:8501`);
        const agent = { cert: onHost("consul01", "cat /etc/consul.d/tls/cert.pem"), key: onHost("consul01", "cat /etc/consul.d/tls/key.pem") };
        for (const h of HOSTS) {
            assert.equal(await consulRpc(h.address, "plain", { ca }), "refused", `plaintext RPC to ${h.name}`);
            assert.equal(await consulRpc(h.address, "tls", { ca }), "refused", `TLS RPC without a client certificate to ${h.name}`);
            assert.equal(await consulRpc(h.address, "tls", { ca, ...agent }), "accepted", `TLS RPC with the CA's certificate to ${h.name}`);
        }
        assert.equal(onHost("consul01", "stat -c %a /etc/consul.d/tls/key.pem").trim(), "640");
    });

    it("gossip is encrypted with the stack's key", () => {
        const keyring = consulCli("consul01", "keyring -list");
        assert.match(keyring, new RegExp(String(outputs.gossipKey.value).replace(/[+/=]/g, (c) => `\\${c}`)));
        assert.ok(outputs.gossipKey.secret, "gossipKey is a secret output");
    });

    it("the Docker API: TLS with client certificates on 2376, nothing on plain 2375; the manager lists 3 nodes Ready", async () => {
        assert.ok(outputs.dockerTls.secret, "dockerTls is a secret output");
        const certs = dockerCertPath(outputs);
        const ca = fs.readFileSync(path.join(certs, "ca.pem"), "utf8");
        for (const h of HOSTS) {
            await assert.rejects(http(`http://${h.address}:2375/_ping`), `nothing answers on plain 2375 on ${h.name}`);
            assert.match(dockerTls(certs, h.address, "version", "--format", "{{.Server.Version}}"), /^20\.10\./, `docker --tlsverify on ${h.name}`);
            await assert.rejects(httpsGet(`https://${h.address}:2376/_ping`, { ca }), `without a client certificate ${h.name} refuses the handshake`);
            // The host's own daemon.json key (the lab image sets the cgroup driver) is kept next to the stack's.
            assert.deepEqual(JSON.parse(onHost(h.name, "cat /etc/docker/daemon.json")), {
                "exec-opts": ["native.cgroupdriver=systemd"],
                hosts: ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
                tls: true,
                tlscacert: "/etc/docker/tls/ca.pem",
                tlscert: "/etc/docker/tls/cert.pem",
                tlskey: "/etc/docker/tls/key.pem",
                tlsverify: true,
            });
            assert.equal(onHost(h.name, "stat -c %a /etc/docker/tls/key.pem").trim(), "600");
        }
        const manager = String(outputs.swarmManager.value).replace(/^tcp:\/\/|:2376$/g, "");
        assert.deepEqual(
            dockerTls(certs, manager, "node", "ls", "--format", "{{.Hostname}}={{.Status}}").trim().split("\n").sort(),
            ["consul01=Ready", "consul02=Ready", "consulsvr=Ready"],
        );
        fs.rmSync(certs, { recursive: true, force: true });
    });

    it("the stack's outputs say what the hosts say", async () => {
        const leaderAddr = (await json<string>(`${seed}/v1/status/leader`)).replace(/:8300$/, "");
        const leaderName = HOSTS.find((h) => h.address === leaderAddr)!.name;
        assert.equal(outputs.consulLeader.value, leaderName);
        const members = outputs.consulMembers.value as { name: string; address: string; status: string }[];
        assert.deepEqual(
            members.map((m) => `${m.name} ${m.address.replace(/:\d+$/, "")} ${m.status}`),
            ["consul01 10.214.0.112 alive", "consul02 10.214.0.113 alive", "consulsvr 10.214.0.111 alive"],
        );
        assert.deepEqual(outputs.consulServers.value, Object.fromEntries(HOSTS.map((h) => [h.name, h.address])));
        assert.equal(outputs.consulUiUrl.value, `${seed}/ui/`);
        assert.deepEqual(
            (outputs.swarmNodes.value as { hostname: string; status: string }[]).map((n) => `${n.hostname} ${n.status}`),
            ["consul01 Ready", "consul02 Ready", "consulsvr Ready"],
        );
        assert.deepEqual(outputs.dockerHosts.value, Object.fromEntries(HOSTS.map((h) => [h.name, `tcp://${h.address}:2376`])));
    });

    it("a shell points docker and consul at the cluster from the outputs (npm run client-env)", () => {
        const out = execFileSync(
            "bash",
            [
                "-c",
                `eval "$(bash scripts/client-env.sh e2e)" && docker node ls --format '{{.Hostname}}' | sort | tr '\\n' ' ' && "$CONSUL_SWARM_TOOLBIN/consul" members | tail -n +2 | wc -l`,
            ],
            { cwd: repo, encoding: "utf8" },
        );
        assert.match(out, /^consul01 consul02 consulsvr \s*3\s*$/);
    });

    it("another stack reads the outputs through a StackReference", async () => {
        const consumer = await LocalWorkspace.createOrSelectStack({
            stackName: "e2e-consumer",
            workDir: path.join(repo, "examples", "consumer"),
        });
        try {
            await consumer.setConfig("consul-swarm-consumer:source", { value: "organization/consul-swarm/e2e" });
            const up = await consumer.up();
            assert.equal(up.outputs.consulUiUrl.value, outputs.consulUiUrl.value);
            assert.equal(up.outputs.consulLeader.value, outputs.consulLeader.value);
            assert.equal(up.outputs.dockerHost.value, outputs.swarmManager.value);
            assert.equal(up.outputs.serverCount.value, 3);
        } finally {
            await consumer.destroy();
            await consumer.workspace.removeStack("e2e-consumer");
        }
    });

    it("keeps every secret out of the exported state", async () => {
        // The CLI's own export (the Automation API's exportStack adds --show-secrets).
        const state = execFileSync("pulumi", ["stack", "export", "--stack", "e2e", "--cwd", repo], { encoding: "utf8", maxBuffer: 256 << 20 });
        const gossip = String(outputs.gossipKey.value);
        const key = String(outputs.labSshPrivateKey.value);
        assert.match(key, /BEGIN EC PRIVATE KEY/);
        assert.ok(!state.includes(gossip), "the gossip key is not in the state in plain text");
        const keyBody = key.split("\n")[1];
        assert.ok(!state.includes(keyBody) && !state.includes(JSON.stringify(keyBody).slice(1, -1)), "the SSH key is not in the state in plain text");
        assert.ok(!state.includes(token), "the ACL token is not in the state in plain text");
        const tlsKey = (outputs.dockerTls.value as { clientKey: string }).clientKey.split("\n")[1];
        assert.ok(!state.includes(tlsKey), "the Docker client key is not in the state in plain text");
        assert.match(state, /"ciphertext"/, "secrets are there, encrypted");
    });

    /**
     * Fails the leader with `fail` while a writer puts `keys` keys through the other servers (each
     * retried until acknowledged); returns how long until another server led, and checks that every
     * acknowledged write reads back.
     */
    async function leaderFailover(what: string, prefix: string, fail: (leader: (typeof HOSTS)[number]) => bigint | undefined) {
        // The up ended with every server a voter and autopilot healthy (the verify step waits for it).
        const raft = await json<{ Servers: { Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`);
        assert.equal(raft.Servers.filter((x) => x.Voter).length, 3, "three voters before the failure");
        const leaderAddr = (await json<string>(`${seed}/v1/status/leader`)).replace(/:8300$/, "");
        const leader = HOSTS.find((h) => h.address === leaderAddr)!;
        const others = HOSTS.filter((h) => h !== leader);
        const KEYS = 1000;
        let acknowledged = 0;
        let failedAt = 0;
        let newLeaderAt = 0;
        /** When the failure happened by the hosts' clock (the lab's containers share this machine's), if `fail` says. */
        let killedAtNs: bigint | undefined;
        const writer = (async () => {
            for (let i = 0; i < KEYS; i++) {
                for (let attempt = 0; ; attempt++) {
                    const h = others[(i + attempt) % others.length];
                    try {
                        const r = await http(`http://${h.address}:8500/v1/kv/${prefix}/${i}`, { method: "PUT", body: String(i), ...withToken() });
                        if (r.status === 200 && r.body.trim() === "true") {
                            acknowledged++;
                            break;
                        }
                    } catch {
                        // refused or timed out while there is no leader: try again
                    }
                    await new Promise((r) => setTimeout(r, 50));
                }
                if (i === 200) {
                    failedAt = Date.now();
                    killedAtNs = fail(leader);
                }
            }
        })();
        const watcher = (async () => {
            const deadline = Date.now() + 120_000;
            while (newLeaderAt === 0 && Date.now() < deadline) {
                if (failedAt > 0) {
                    for (const h of others) {
                        try {
                            const l = await json<string>(`http://${h.address}:8500/v1/status/leader`);
                            if (l !== "" && !l.startsWith(`${leader.address}:`)) {
                                newLeaderAt = Date.now();
                                break;
                            }
                        } catch {
                            // no leader yet
                        }
                    }
                }
                await new Promise((r) => setTimeout(r, 100));
            }
        })();
        await writer;
        await watcher;
        assert.ok(newLeaderAt > 0, "another server became leader");
        const failover = (newLeaderAt - failedAt) / 1000;
        let readBack = 0;
        for (let i = 0; i < KEYS; i++) {
            const r = await http(`http://${others[0].address}:8500/v1/kv/${prefix}/${i}?raw&consistent`, withToken());
            readBack += r.status === 200 && r.body === String(i) ? 1 : 0;
        }
        // Raft's own figure: from the kill to the new leader's "entering leader state", both by the hosts' clock.
        let raftFailover: number | undefined;
        if (killedAtNs !== undefined) {
            const stamps = others.flatMap((h) =>
                onHost(h.name, "journalctl -u consul -o short-unix --no-pager --since '-5min' | grep 'entering leader state' || true")
                    .trim()
                    .split("\n")
                    .filter((l) => l)
                    .map((l) => Number(l.split(" ")[0])),
            );
            const after = stamps.filter((t) => t * 1e9 > Number(killedAtNs)).sort((a, b) => a - b);
            raftFailover = after.length > 0 ? after[0] - Number(killedAtNs) / 1e9 : undefined;
        }
        log(
            `${what} ${leader.name}: a new leader after ${failover.toFixed(1)} s seen from outside` +
                (raftFailover !== undefined ? `, ${raftFailover.toFixed(2)} s by the raft log (kill to "entering leader state")` : "") +
                `; ${acknowledged}/${KEYS} writes acknowledged, ${readBack} read back`,
        );
        assert.equal(readBack, acknowledged);
        assert.equal(acknowledged, KEYS);
        return { failover, leader, others };
    }

    /** Every server a voter again and autopilot healthy, seen through `via`. */
    async function threeVoters(via: { address: string }, seconds: number) {
        await eventually("the three servers voters again, autopilot healthy", seconds, async () => {
            const cfg = await json<{ Servers: { Node: string; Voter: boolean }[] }>(`http://${via.address}:8500/v1/operator/raft/configuration`);
            assert.deepEqual(cfg.Servers.filter((x) => x.Voter).map((x) => x.Node).sort(), HOSTS.map((h) => h.name).sort());
            assert.equal((await json<{ Healthy: boolean }>(`http://${via.address}:8500/v1/operator/autopilot/health`)).Healthy, true);
        });
    }

    /** The host whose agent leads the cluster now. */
    async function leaderHost(among: { name: string; address: string }[] = HOSTS) {
        const addr = (await json<string>(`${seed}/v1/status/leader`)).replace(/:8300$/, "");
        const h = among.find((x) => x.address === addr);
        assert.ok(h, `a leader among the hosts: ${addr}`);
        return h;
    }

    /** The highest raft term any server reports: one more per leader election. */
    async function raftTerm(among: { address: string }[] = HOSTS): Promise<number> {
        let term = 0;
        for (const h of among) {
            const self = await json<{ Stats: { raft: { term: string } } }>(`http://${h.address}:8500/v1/agent/self`);
            term = Math.max(term, Number(self.Stats.raft.term));
        }
        return term;
    }

    it("kill -9 of the leader's agent under a writer: a new leader within 5 s (printed), every acknowledged write kept", async () => {
        const { failover, others } = await leaderFailover("killed the agent of", "e2e/failover", (leader) => BigInt(onHost(leader.name, "date +%s%N; pkill -9 -x consul").trim()));
        // Consul 1.14's fastest raft timing (raft_multiplier 1) gives 2.2 to 3.5 s here; the default (5) about 10 s.
        assert.ok(failover < 5, `a new leader after ${failover} s`);
        // systemd starts the killed agent again; it rejoins as a voter.
        await threeVoters(others[0], 60);
    });

    it("the leader's whole host stopped under a writer: a new leader within 10 s, writes kept; started again, it rejoins and up changes nothing", async () => {
        const { failover, leader, others } = await leaderFailover("stopped the host of", "e2e/hoststop", (l) => {
            execFileSync("docker", ["stop", "-t", "0", container(l.name)]);
            return undefined;
        });
        assert.ok(failover < 10, `a new leader after ${failover} s`);
        execFileSync("docker", ["start", container(leader.name)]);
        await threeVoters(others[0], 120);
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, `the host back as it was: ${JSON.stringify(again.summary.resourceChanges)}`);
    });

    it("the swarm hosts' tokens: the managers' writes the swarm's KV prefix and nothing else; the workers' reads the worker join token, never the manager's", async () => {
        const tokens = await json<{ AccessorID: string; Policies?: { Name: string }[] }[]>(`${seed}/v1/acl/tokens`);
        const secretOf = async (policy: string) => {
            const found = tokens.filter((t) => (t.Policies ?? []).some((p) => p.Name === policy));
            assert.equal(found.length, 1, `one token with ${policy}`);
            assert.deepEqual(found[0].Policies!.map((p) => p.Name), [policy]);
            const secret = (await json<{ SecretID: string }>(`${seed}/v1/acl/token/${found[0].AccessorID}`)).SecretID;
            assert.notEqual(secret, token, "not the management token");
            return { headers: { "X-Consul-Token": secret } };
        };
        const kv = (key: string, as: RequestInit, body?: string) =>
            http(`${seed}/v1/kv/${key}${body === undefined ? "?raw" : ""}`, body === undefined ? as : { method: "PUT", body, ...as }).then((r) => r.status);
        const managers = await secretOf("consul-swarm-swarm");
        assert.equal(await kv("consul-swarm/swarm/manager-token", managers), 200, "the managers' reads the manager join token");
        assert.equal(await kv("consul-swarm/swarm/e2e-probe", managers, "x"), 200, "writes the swarm prefix");
        assert.equal(await kv("e2e/outside", managers, "x"), 403, "cannot write outside it");
        assert.equal(await kv("e2e/check", managers), 403, "cannot read outside it");
        assert.equal((await http(`${seed}/v1/acl/tokens`, managers)).status, 403, "no ACL management");
        const workers = await secretOf("consul-swarm-swarm-worker");
        assert.equal(await kv("consul-swarm/swarm/worker-token", workers), 200, "the workers' reads the worker join token");
        assert.equal(await kv("consul-swarm/swarm/manager-addr", workers), 200, "and the manager's address");
        assert.equal(await kv("consul-swarm/swarm/manager-token", workers), 403, "never the manager join token");
        assert.equal(await kv("consul-swarm/swarm/restart-turns/e2e-probe", workers, "x"), 200, "takes restart turns");
        assert.equal(await kv("consul-swarm/swarm/worker-token", workers, "x"), 403, "cannot replace the join token");
        assert.equal(await kv("e2e/check", workers), 403, "cannot read outside the swarm prefix");
        assert.equal((await http(`${seed}/v1/kv/consul-swarm/swarm/restart-turns/e2e-probe`, { method: "DELETE", ...workers })).status, 200);
    });

    it("a second up changes nothing and preview --expect-no-changes passes", async () => {
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, `second up: ${JSON.stringify(again.summary.resourceChanges)}`);
        await stack.preview({ expectNoChanges: true });
    });

    /** What the last refresh recorded in each drift check, by resource name (from the CLI's own export). */
    const driftFindings = () => findDrift("e2e");

    it("drift the commands cannot read: refresh shows each case, up repairs it under a reader, no key lost; a clean refresh changes nothing", async () => {
        const clean = await stack.refresh();
        assert.deepEqual(changed(clean), {}, `a refresh of a cluster as the stack made it finds nothing: ${JSON.stringify(clean.summary.resourceChanges)}`);
        assert.deepEqual(changed(await stack.up()), {}, "and the up after it has nothing to do");
        for (let i = 0; i < 1000; i += 50) {
            const ops = Array.from({ length: 50 }, (_, j) => ({ KV: { Verb: "set", Key: `e2e/drift/${i + j}`, Value: Buffer.from("v").toString("base64") } }));
            assert.equal((await http(`${seed}/v1/txn`, { method: "PUT", body: JSON.stringify(ops), ...withToken() })).status, 200);
        }
        const consulSha = onHost("consulsvr", "sha256sum /usr/local/bin/consul | cut -d' ' -f1").trim();
        // Five kinds of drift, done by hand the way an operator or an accident would.
        onHost("consul01", "systemctl stop consul");
        onHost("consul01", "jq '. + {debug: true}' /etc/docker/daemon.json > /tmp/d.json && cat /tmp/d.json > /etc/docker/daemon.json");
        onHost("consulsvr", `sed -i 's/"log_level": "INFO"/"log_level": "TRACE"/' /etc/consul.d/consul.json`);
        onHost("consul02", "cp /bin/true /usr/local/bin/consul.x && mv -f /usr/local/bin/consul.x /usr/local/bin/consul");
        onHost("consul02", "docker swarm leave");
        const stopReader = kvReader(HOSTS, "e2e/drift/7", "v");
        let reader = { reads: 0, windows: [] as number[], recovered: false };
        let upLog = "";
        try {
            const refresh = await stack.refresh();
            log(`refresh after five kinds of drift: ${JSON.stringify(refresh.summary.resourceChanges)}`);
            const found = driftFindings();
            log(`drift found: ${JSON.stringify(found)}`);
            const expect = (check: string, finding: RegExp) =>
                assert.ok((found[check] ?? []).some((f) => finding.test(f)), `${check} reports ${finding}: ${JSON.stringify(found[check])}`);
            expect("consul01-consul-drift", /the agent on consul01 is not running/);
            expect("consul01-docker-drift", /\/etc\/docker\/daemon\.json was edited/);
            expect("consul01-docker-drift", /runs with an older config/);
            expect("consulsvr-consul-drift", /\/etc\/consul\.d\/consul\.json was edited/);
            expect("consul02-consul-binary-drift", /\/usr\/local\/bin\/consul on consul02 is not the binary the stack installed/);
            expect("swarm-drift-consul02", /consul02 is not in a swarm/);
            assert.deepEqual(Object.keys(found).sort(), [
                "consul01-consul-drift", "consul01-docker-drift", "consul02-consul-binary-drift", "consul02-consul-drift", "consulsvr-consul-drift", "swarm-drift-consul02",
            ], "nothing else reported (consul02's agent runs a binary replaced underneath it: also drift)");
            const up = await stack.up({ onOutput: (o) => (upLog += o) });
            log(`up repairing the drift: ${JSON.stringify(up.summary.resourceChanges)}`);
            assert.equal(changed(up).replace ?? 0, 1, "only the binary's upload is made again");
        } finally {
            reader = await stopReader();
        }
        log(`drift repair: ${reader.reads} reads, failure windows (ms): ${JSON.stringify(reader.windows)}`);
        assert.ok(reader.recovered && reader.windows.every((w) => w < 15000), `failure windows ${JSON.stringify(reader.windows)}`);
        for (const h of HOSTS) {
            assert.equal(onHost(h.name, "systemctl is-active consul docker").trim(), "active\nactive", `${h.name}: consul and dockerd run`);
            assert.equal(onHost(h.name, "sha256sum /usr/local/bin/consul | cut -d' ' -f1").trim(), consulSha, `${h.name}: the stack's binary`);
            assert.equal(onHost(h.name, "docker info --format '{{.Swarm.LocalNodeState}}'").trim(), "active", `${h.name}: in the swarm`);
        }
        assert.doesNotMatch(onHost("consulsvr", "cat /etc/consul.d/consul.json"), /TRACE/, "consulsvr's config is the stack's again");
        assert.equal(onHost("consul01", "jq .debug /etc/docker/daemon.json").trim(), "null", "consul01's daemon.json is the stack's again");
        assert.match(upLog, /restarting docker/, "dockerd restarted for its repaired config");
        await threeVoters(HOSTS[0], 60);
        assert.equal((await json<string[]>(`${seed}/v1/kv/e2e/drift/?keys`)).length, 1000, "every key is there");
        assert.match(onHost("consulsvr", "docker node ls --format '{{.Hostname}}={{.Status}}' | sort | tr '\\n' ' '"), /^consul01=Ready consul02=Ready consulsvr=Ready $/, "one swarm, each node once");
        const after = await stack.refresh();
        assert.deepEqual(changed(after), {}, `repaired: the next refresh finds nothing: ${JSON.stringify(after.summary.resourceChanges)}`);
        assert.deepEqual(driftFindings(), {});
        assert.deepEqual(changed(await stack.up()), {}, "and the next up changes nothing");
    });

    it("a config Consul would refuse fails the up naming the key, and no running agent is stopped", async () => {
        const pids = () => HOSTS.map((h) => onHost(h.name, "systemctl show -p MainPID --value consul").trim());
        const before = pids();
        await stack.setAllConfig(baseConfig({ options: { bogus_option: 1 } }));
        let upLog = "";
        await assert.rejects(stack.up({ onOutput: (o) => (upLog += o) }), /bogus_option/, "the up fails naming the key");
        assert.match(upLog, /refuses the new config; nothing was changed or restarted/);
        assert.deepEqual(pids(), before, "every agent still runs, unrestarted");
        for (const h of HOSTS) {
            assert.doesNotMatch(onHost(h.name, "cat /etc/consul.d/consul.json"), /bogus_option/, `${h.name} keeps its config`);
        }
        await stack.setAllConfig(baseConfig());
        const back = await stack.up();
        assert.deepEqual(changed(back), {}, `with the option taken out again, nothing to do: ${JSON.stringify(back.summary.resourceChanges)}`);
    });

    it("an edited comment in every remote script changes nothing; a refactored script updates steps in place: no replacement, no restart, the same CAs and swarm", async () => {
        // The program as a user would have it after editing a comment in each remote script.
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "cs-edited-"));
        const skip = new Set([".git", ".state", "node_modules", "bin"]);
        fs.cpSync(repo, copy, { recursive: true, filter: (src) => !skip.has(path.basename(src)) || path.dirname(src) !== repo });
        fs.symlinkSync(path.join(repo, "node_modules"), path.join(copy, "node_modules"));
        // Every part's remote scripts (components/<part>/scripts/*.sh).
        const scripts = fs
            .readdirSync(path.join(copy, "components"))
            .map((part) => path.join(copy, "components", part, "scripts"))
            .filter((dir) => fs.existsSync(dir))
            .flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith(".sh")).map((f) => path.join(dir, f)));
        for (const f of scripts) {
            fs.appendFileSync(f, "# edited: a comment changes nothing on a host\n");
        }
        const certs = dockerCertPath(outputs);
        const clusterId = () => dockerTls(certs, HOSTS[0].address, "info", "--format", "{{.Swarm.Cluster.ID}}").trim();
        const swarmBefore = clusterId();
        try {
            const edited = await LocalWorkspace.selectStack({ stackName: "e2e", workDir: copy });
            // Comments never reach a host: no step sees a change.
            await edited.preview({ expectNoChanges: true });
            // A refactor (a line of code that changes no intent) re-runs each step in place.
            for (const f of scripts) {
                fs.appendFileSync(f, ": refactored\n");
            }
            const preview = await edited.preview();
            const kinds = preview.changeSummary as Record<string, number>;
            log(`preview with ${scripts.length} refactored scripts: ${JSON.stringify(kinds)}`);
            assert.deepEqual(Object.keys(kinds).filter((k) => /replace|delete|create/.test(k)), [], "nothing replaced, deleted or created");
            assert.ok((kinds.update ?? 0) >= 15, `the remote steps update in place: ${JSON.stringify(kinds)}`);
            let upLog = "";
            const up = await edited.up({ onOutput: (o) => (upLog += o) });
            log(`up with refactored scripts: ${JSON.stringify(up.summary.resourceChanges)}`);
            assert.doesNotMatch(upLog, /restarting (consul|docker)/, "no agent or daemon restarted");
            assert.doesNotMatch(upLog, /leaving it|swarm init/, "no node left the swarm");
            assert.equal(up.outputs.consulCaCert.value, outputs.consulCaCert.value, "the same Consul CA");
            assert.deepEqual(up.outputs.dockerTls.value, outputs.dockerTls.value, "the same Docker CA and client certificate");
            assert.equal(clusterId(), swarmBefore, "the same swarm");
            // And back to the scripts as they are: the same again.
            let backLog = "";
            await stack.up({ onOutput: (o) => (backLog += o) });
            assert.doesNotMatch(backLog, /restarting (consul|docker)|leaving it/);
            assert.equal(clusterId(), swarmBefore);
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
            fs.rmSync(certs, { recursive: true, force: true });
        }
    });

    it("a changed Consul option re-runs only the service steps, one server at a time, the leader last, one election", async () => {
        const leaderBefore = await leaderHost();
        const termBefore = await raftTerm();
        await stack.setAllConfig(baseConfig(ROLLING_CHANGE));
        // A reader polls KV every 200 ms during the up: each restart may cost at most one short pause.
        await http(`${seed}/v1/kv/e2e/rolling`, { method: "PUT", body: "x", ...withToken() });
        const stopReader = kvReader(HOSTS, "e2e/rolling", "x");
        let reading = true;
        const haltSampler = () => {
            reading = false;
        };
        pollers.add(haltSampler);
        // Meanwhile, every process list on the hosts is sampled: the gossip key must never show.
        const gossip = String(outputs.gossipKey.value);
        const psSamples: string[] = [];
        const psSampler = (async () => {
            while (reading) {
                for (const h of HOSTS) {
                    try {
                        const { stdout } = await promisify(execFile)("docker", ["exec", container(h.name), "ps", "-eo", "args"]);
                        psSamples.push(stdout);
                    } catch {
                        // a host restarting its agent may refuse one exec; the next sample counts
                    }
                }
                await new Promise((r) => setTimeout(r, 200));
            }
        })();
        let upLog = "";
        const up = await stack.up({
            onOutput: (o) => {
                upLog += o;
                process.stderr.write(o);
            },
        });
        haltSampler();
        pollers.delete(haltSampler);
        const { reads, windows, recovered } = await stopReader();
        await psSampler;
        assert.ok(psSamples.length > 10, `sampled ps ${psSamples.length} times`);
        assert.ok(!psSamples.some((p) => p.includes(gossip)), "the gossip key never appears on a host's command lines");
        assert.ok(!psSamples.some((p) => p.includes(token)), "the ACL token never appears on a host's command lines");
        assert.deepEqual(changed(up), { update: 6 }, `only the service steps and the deferred restarts after them: ${JSON.stringify(up.summary.resourceChanges)}`);
        // One server at a time, each finished (back, a voter, autopilot healthy) before the next;
        // followers in the chain's order, the leader last.
        const restarts = [...upLog.matchAll(/restarting consul on (\w+)/g)].map((m) => m[1]);
        assert.equal(new Set(restarts).size, 3, `every server restarted once: ${restarts}`);
        assert.equal(restarts[restarts.length - 1], leaderBefore.name, `the leader (${leaderBefore.name}) restarted last: ${restarts}`);
        const elections = (await raftTerm()) - termBefore;
        log(`rolling restart: ${reads} reads, failure windows (ms): ${JSON.stringify(windows)}, order ${restarts.join(" → ")}, elections ${elections}`);
        assert.ok(recovered, "reads work again at the end");
        // Each server leaves before it restarts and comes back a non-voter: no election but the
        // leader's hand-over, so at most one short pause.
        assert.ok(elections <= 1, `${elections} leader elections`);
        assert.ok(windows.length <= 1, `reads failed in ${windows.length} windows`);
        assert.ok(windows.every((w) => w < 15000), `windows ${JSON.stringify(windows)} ms`);
        for (const h of HOSTS) {
            const cfg = JSON.parse(onHost(h.name, "cat /etc/consul.d/consul.json"));
            assert.equal(cfg.log_level, "DEBUG");
            assert.deepEqual(cfg.telemetry, { disable_hostname: true, prometheus_retention_time: "30s" }, "the override shows, the other default stays");
        }
        await eventually("3 alive servers and one leader", 60, async () => {
            const leaders = new Set<string>();
            for (const h of HOSTS) {
                leaders.add(await json<string>(`http://${h.address}:8500/v1/status/leader`));
                assert.equal((await json<string[]>(`http://${h.address}:8500/v1/status/peers`)).length, 3);
            }
            assert.equal(leaders.size, 1);
            assert.notEqual([...leaders][0], "");
        });
    });

    it("a server stopped by hand, then a roll (to 1.14.8): no healthy server goes while the cluster cannot lose it; the stopped one starts first, then one at a time, every read answered but short pauses", async () => {
        const up3 = HOSTS.filter((h) => h.name !== "consul02");
        await http(`${seed}/v1/kv/e2e/degraded`, { method: "PUT", body: "x", ...withToken() });
        // Autopilot would take the stopped server out of raft within seconds (cleanup_dead_servers),
        // which leaves a healthy cluster of two; an operator may turn that off, and a server that
        // fails moments before a roll is in raft too: the cluster is degraded while it stays.
        const autopilot = async (cleanup: boolean) => {
            const cfg = await json<Record<string, unknown>>(`${seed}/v1/operator/autopilot/configuration`);
            const r = await http(`${seed}/v1/operator/autopilot/configuration`, { method: "PUT", body: JSON.stringify({ ...cfg, CleanupDeadServers: cleanup }), ...withToken() });
            assert.equal(r.status, 200, r.body);
        };
        await autopilot(false);
        onHost("consul02", "systemctl stop consul");
        try {
            await degradedRoll(up3);
        } finally {
            onHost("consul02", "systemctl start consul");
            await autopilot(true);
        }
    });

    async function degradedRoll(up3: typeof HOSTS) {
        await eventually("autopilot sees consul02 unhealthy, no failure to spare", 60, async () => {
            // Autopilot's health answers 429 while the cluster is unhealthy.
            const health = JSON.parse((await http(`${seed}/v1/operator/autopilot/health`, withToken())).body) as { Healthy: boolean; FailureTolerance: number };
            assert.deepEqual([health.Healthy, health.FailureTolerance], [false, 0]);
        });
        const leaderBefore = await leaderHost(up3);
        const termBefore = await raftTerm(up3);
        const startedAt = (h: string) => Number(onHost(h, "systemctl show consul -p ActiveEnterTimestampMonotonic --value").trim());
        const before = Object.fromEntries(up3.map((h) => [h.name, startedAt(h.name)]));
        await stack.setAllConfig(baseConfig({ ...ROLLING_CHANGE, version: "1.14.8" }));
        const stopReader = kvReader(up3, "e2e/degraded", "x");
        let upLog = "";
        let reader = { reads: 0, windows: [] as number[], recovered: false };
        try {
            await explained("the roll with consul02 stopped", () => stack.up({ onOutput: (o) => (upLog += o) }));
        } finally {
            reader = await stopReader();
        }
        const { reads, windows, recovered } = reader;
        const elections = (await raftTerm()) - termBefore;
        log(`a roll with consul02 stopped by hand: ${reads} reads, failure windows (ms): ${JSON.stringify(windows)}, elections ${elections}, leader before ${leaderBefore.name}`);
        if (leaderBefore.name !== "consul01") {
            assert.match(upLog, /the cluster is degraded \(not healthy: consul02\): consul on consul01 restarts after the other servers/, "consul01, first in the chain, waited");
        }
        assert.match(upLog, /starting consul on consul02/);
        const consul02Started = startedAt("consul02");
        for (const h of up3) {
            const restarted = startedAt(h.name);
            assert.ok(restarted > before[h.name], `${h.name} restarted`);
            assert.ok(restarted > consul02Started, `${h.name} restarted only after consul02 was back`);
        }
        // consul02 comes back still a voter, without having left: its first timeout may call an
        // election (Consul 1.14's raft has no pre-vote), beside the leader's hand-over. No quorum
        // is ever lost: that would stop every read until the up failed.
        assert.ok(recovered && windows.length <= 2 && windows.every((w) => w < 15000), `reads failed in windows ${JSON.stringify(windows)}`);
        assert.ok(elections <= 2, `${elections} leader elections`);
        for (const h of HOSTS) {
            assert.equal((await json<{ Config: { Version: string } }>(`http://${h.address}:8500/v1/agent/self`)).Config.Version, "1.14.8", `${h.name} on 1.14.8`);
        }
    }

    let upgradeSnapshot = "";
    const UPGRADE_KEYS = 1000;

    it("a rolling upgrade 1.14.8 → 1.14.11: a snapshot first, followers then the leader, one election, every agent on the new release", async () => {
        // From the previous release (getting there is a roll of its own, by the same steps).
        await stack.setAllConfig(baseConfig({ ...ROLLING_CHANGE, version: "1.14.8" }));
        await stack.up({ onOutput: (o) => process.stderr.write(o) });
        const version = async (h: { address: string }) =>
            (await json<{ Config: { Version: string } }>(`http://${h.address}:8500/v1/agent/self`)).Config.Version;
        for (const h of HOSTS) {
            assert.equal(await version(h), "1.14.8", `${h.name} runs the previous release`);
        }
        for (let i = 0; i < UPGRADE_KEYS; i++) {
            const r = await http(`${seed}/v1/kv/e2e/upgrade/${i}`, { method: "PUT", body: String(i), ...withToken() });
            assert.equal(r.body.trim(), "true");
        }
        const leaderBefore = await leaderHost();
        const termBefore = await raftTerm();
        const stopReader = kvReader(HOSTS, "e2e/upgrade/7", "7");
        await stack.setAllConfig(baseConfig(ROLLING_CHANGE));
        let upLog = "";
        const t0 = Date.now();
        const up = await stack.up({
            onOutput: (o) => {
                upLog += o;
                process.stderr.write(o);
            },
        });
        const seconds = (Date.now() - t0) / 1000;
        const { reads, windows, recovered } = await stopReader();
        const restarts = [...upLog.matchAll(/restarting consul on (\w+)/g)].map((m) => m[1]);
        const elections = (await raftTerm()) - termBefore;
        log(`upgrade 1.14.8 → 1.14.11: ${seconds.toFixed(0)} s, ${reads} reads, failure windows (ms) ${JSON.stringify(windows)}, order ${restarts.join(" → ")}, elections ${elections}`);
        for (const h of HOSTS) {
            assert.equal(await version(h), "1.14.11", `${h.name} runs the new release`);
        }
        assert.equal(new Set(restarts).size, 3, `every server restarted once: ${restarts}`);
        assert.equal(restarts[restarts.length - 1], leaderBefore.name, `the leader (${leaderBefore.name}) restarted last: ${restarts}`);
        assert.ok(elections <= 1, `${elections} leader elections`);
        assert.ok(recovered && windows.length <= 1 && windows.every((w) => w < 15000), `failure windows ${JSON.stringify(windows)}`);
        // The snapshot, taken before the first restart, is on this machine; its path is an output.
        upgradeSnapshot = String(up.outputs.consulUpgradeSnapshot.value);
        assert.match(upgradeSnapshot, /before-1\.14\.11\.snap$/);
        assert.ok(fs.statSync(upgradeSnapshot).mtimeMs < Date.now() - seconds * 1000 + 15000, "saved at the start of the up");
        assert.equal(fs.statSync(upgradeSnapshot).mode & 0o077, 0, "readable by its owner only (it holds every ACL token)");
        execFileSync("gzip", ["-t", upgradeSnapshot]);
        const keys = await json<string[]>(`${seed}/v1/kv/e2e/upgrade/?keys`);
        assert.equal(keys.length, UPGRADE_KEYS);
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, "the next up changes nothing");
    });

    it("the upgrade's snapshot restored into a newly built cluster brings back every key and ACL token; that stack still works", async () => {
        assert.ok(upgradeSnapshot, "the upgrade test saved a snapshot");
        const tokensBefore = (await json<{ AccessorID: string }[]>(`${seed}/v1/acl/tokens`)).map((t) => t.AccessorID).sort();
        const name = "e2e-restore";
        const net = "consul-swarm-e2e-restore";
        const host = { name: "restore01", address: "10.221.0.111", roles: ["consul-server"], bootstrap: true };
        const fresh = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir: repo });
        try {
            await fresh.setAllConfig({
                "consul-swarm:lab": { value: JSON.stringify({ subnet: "10.221.0.0/24", networkName: net }) },
                "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" } }) },
                "consul-swarm:hosts": { value: JSON.stringify([host]) },
            });
            const up = await fresh.up({ onOutput: (o) => process.stderr.write(o) });
            const freshToken = String(up.outputs.aclBootstrapToken.value);
            const api = `http://${host.address}:8500`;
            const as = (t: string): RequestInit => ({ headers: { "X-Consul-Token": t } });
            assert.equal((await http(`${api}/v1/kv/e2e/upgrade/7?raw`, as(freshToken))).status, 404, "a new cluster: no key yet");
            const out = execFileSync("bash", [path.join(repo, "scripts", "snapshot.sh"), "restore", name, upgradeSnapshot], { encoding: "utf8" });
            log(out.trim());
            const keys = JSON.parse((await http(`${api}/v1/kv/e2e/upgrade/?keys`, as(freshToken))).body) as string[];
            assert.equal(keys.length, UPGRADE_KEYS, "every key back");
            assert.equal((await http(`${api}/v1/kv/e2e/upgrade/999?raw`, as(freshToken))).body, "999");
            const tokensAfter = (JSON.parse((await http(`${api}/v1/acl/tokens`, as(freshToken))).body) as { AccessorID: string }[]).map((t) => t.AccessorID);
            for (const a of tokensBefore) {
                assert.ok(tokensAfter.includes(a), `token ${a} of the first cluster is back`);
            }
            // The old cluster's management token works there now; the new stack's own still does.
            assert.equal((await http(`${api}/v1/kv/e2e/upgrade/1?raw`, as(token))).body, "1");
            // The new stack's agent token was made again: its agent registers and the stack's verify passes.
            await eventually("the restored cluster's own agent in sync", 150, async () => {
                const nodes = JSON.parse((await http(`${api}/v1/catalog/nodes`, as(freshToken))).body) as { Node: string }[];
                // (Every assert.ok here has a message: without one Node reads the source to make one, and
                // on a transpiled one-line file that takes minutes per failed try.)
                assert.ok(nodes.some((n) => n.Node === host.name), `${host.name} in the catalog: ${JSON.stringify(nodes.map((n) => n.Node))}`);
                const checks = JSON.parse((await http(`${api}/v1/health/node/${host.name}`, as(freshToken))).body) as { Status: string }[];
                assert.ok(checks.length > 0 && checks.every((c) => c.Status === "passing"), JSON.stringify(checks));
            });
            const refreshed = await fresh.up({ refresh: true });
            assert.deepEqual(changed(refreshed), {}, "up --refresh after the restore changes nothing");
        } finally {
            await fresh.destroy({ onOutput: (o) => process.stderr.write(o) });
            await fresh.workspace.removeStack(name);
        }
    });

    it("adding a host later is a plain up: it joins with the same gossip key, and no running server restarts", async () => {
        const extra = { name: "consul03", address: "10.214.0.114", roles: ["consul-client"] };
        const config = baseConfig(ROLLING_CHANGE);
        await stack.setAllConfig({ ...config, "consul-swarm:hosts": { value: JSON.stringify([...HOSTS, extra]) } });
        let upLog = "";
        const up = await stack.up({ onOutput: (o) => (upLog += o) });
        log(`up adding consul03: ${JSON.stringify(up.summary.resourceChanges)}`);
        // (Components whose facts list the hosts show as updated; the steps on the running hosts must not.)
        for (const h of HOSTS) {
            assert.doesNotMatch(upLog, new RegExp(`${h.name}-(consul-service|consul-install|docker-config) (updating|replacing|creating replacement)`));
        }
        assert.doesNotMatch(upLog, /restarting consul on/, "no server restarts");
        const rows = consulCli("consulsvr", "members -status=alive").trim().split("\n").slice(1);
        assert.deepEqual(rows.map((r) => r.split(/\s+/).slice(0, 4).join(" ")).sort(), [
            "consul01 10.214.0.112:8301 alive server",
            "consul02 10.214.0.113:8301 alive server",
            "consul03 10.214.0.114:8301 alive client",
            "consulsvr 10.214.0.111:8301 alive server",
        ]);
        // The stack's gossip key, installed on all four members (a client's own token may not read the
        // keyring: least privilege; a server's may).
        const key = String(outputs.gossipKey.value).replace(/[+/=]/g, (c) => `\\${c}`);
        assert.match(consulCli("consulsvr", "keyring -list"), new RegExp(`${key} \\[4/4\\]`));
        // A client comes back by itself after its agent restarts and after its whole host restarts.
        for (const how of ["agent", "host"] as const) {
            const t0 = Date.now();
            if (how === "agent") {
                onHost("consul03", "systemctl restart consul");
            } else {
                execFileSync("docker", ["restart", container("consul03")]);
            }
            await eventually(`consul03 alive again after its ${how} restarted`, 60, async () => {
                const alive = consulCli("consulsvr", "members -status=alive");
                assert.match(alive, /^consul03\s/m);
            });
            log(`consul03 alive again ${((Date.now() - t0) / 1000).toFixed(1)} s after its ${how} restarted, without an up`);
        }
        // And taking it away again: the client leaves, the others keep going.
        await stack.setAllConfig(config);
        let downLog = "";
        const down = await stack.up({ onOutput: (o) => (downLog += o) });
        log(`up removing consul03: ${JSON.stringify(down.summary.resourceChanges)}`);
        assert.doesNotMatch(downLog, /restarting consul on/, "no server restarts");
        const after = consulCli("consulsvr", "members").trim().split("\n").slice(1).map((r) => r.split(/\s+/).slice(0, 3).join(" "));
        assert.deepEqual(after.filter((r) => !r.startsWith("consul03")).sort(), [
            "consul01 10.214.0.112:8301 alive",
            "consul02 10.214.0.113:8301 alive",
            "consulsvr 10.214.0.111:8301 alive",
        ]);
        assert.ok(!after.some((r) => r.startsWith("consul03") && r.endsWith("alive")), `consul03 is gone: ${after}`);
    });

    it("servers scale 3 → 5 → 3 under a reader: peers 5 then 3, all voters; 5 survive 2 losses; no dead voter; a name comes back; a server becomes a client", async () => {
        const config = baseConfig(ROLLING_CHANGE);
        const consul05 = { name: "consul05", address: "10.214.0.118", roles: ["consul-server"] };
        const withExtra = (roles03: string[], more: object[] = []) => ({
            ...config,
            "consul-swarm:hosts": { value: JSON.stringify([...HOSTS, { name: "consul03", address: "10.214.0.114", roles: roles03 }, ...more]) },
        });
        const KEYS = 1000;
        for (let i = 0; i < KEYS; i++) {
            await http(`${seed}/v1/kv/e2e/scale/${i}`, { method: "PUT", body: "v", ...withToken() });
        }
        const voters = async () =>
            (await json<{ Servers: { Node: string; Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`)).Servers.map((x) => `${x.Node}:${x.Voter}`).sort();
        const member = (name: string) =>
            consulCli("consulsvr", "members").trim().split("\n").slice(1).map((r) => r.split(/\s+/)).filter((m) => m[0] === name).map((m) => `${m[2]} ${m[3]}`);
        // Every up runs under a reader of a consistent KV read every 200 ms: at most one short pause.
        const upWith = async (what: string, cfg: Record<string, { value: string }>) => {
            await stack.setAllConfig(cfg);
            const stopReader = kvReader(HOSTS, "e2e/scale/7", "v");
            let out = "";
            try {
                await stack.up({ onOutput: (o) => (out += o) });
            } finally {
                const { reads, windows, recovered } = await stopReader();
                log(`${what}: ${reads} reads, failure windows (ms) ${JSON.stringify(windows)}`);
                assert.ok(recovered && windows.length <= 1 && windows.every((w) => w < 15000), `${what}: failure windows ${JSON.stringify(windows)}`);
            }
            return out;
        };

        await upWith("3 → 5 servers", withExtra(["consul-server"], [consul05]));
        assert.deepEqual(await voters(), ["consul01:true", "consul02:true", "consul03:true", "consul05:true", "consulsvr:true"], "5 servers, all voters at the end of the up");
        assert.equal((await json<{ FailureTolerance: number }>(`${seed}/v1/operator/autopilot/health`)).FailureTolerance, 2);

        // Five servers survive two losses: the leader's agent and another stopped, writes go on.
        const leader = await leaderHost([...HOSTS, { name: "consul03", address: "10.214.0.114" }, consul05]);
        const lost = [leader.name, leader.name === "consul03" ? "consul05" : "consul03"];
        for (const name of lost) {
            onHost(name, "systemctl stop consul");
        }
        try {
            const alive = HOSTS.filter((h) => !lost.includes(h.name));
            await eventually("a leader and writes with two of five servers down", 30, async () => {
                const r = await http(`http://${alive[0].address}:8500/v1/kv/e2e/scale/survivor`, { method: "PUT", body: "ok", ...withToken() });
                assert.equal(r.body.trim(), "true");
            });
            log(`stopped ${lost.join(" and ")}: the other three elected a leader and took writes`);
        } finally {
            for (const name of lost) {
                onHost(name, "systemctl start consul");
            }
        }
        await eventually("five voters again, autopilot healthy", 90, async () => {
            assert.equal((await voters()).filter((v) => v.endsWith(":true")).length, 5);
            assert.equal((await json<{ Healthy: boolean }>(`${seed}/v1/operator/autopilot/health`)).Healthy, true);
        });

        let log1 = await upWith("5 → 3 servers", config);
        assert.match(log1, /consul03 left the Consul cluster/, "taken out: it leaves gracefully");
        assert.match(log1, /consul05 left the Consul cluster/);
        assert.deepEqual(await voters(), ["consul01:true", "consul02:true", "consulsvr:true"], "3 voters, no dead one");
        assert.deepEqual(member("consul03"), ["left server"], "consul03 left, it did not fail");
        assert.deepEqual(member("consul05"), ["left server"]);
        assert.equal((await json<string[]>(`${seed}/v1/kv/e2e/scale/?keys`)).length, KEYS + 1, "no key lost");

        // The same name again, a few seconds after it left: it must come back alive (its own join).
        await upWith("consul03 back", withExtra(["consul-server"]));
        assert.deepEqual(await voters(), ["consul01:true", "consul02:true", "consul03:true", "consulsvr:true"], "consul03 back as a voter");
        assert.deepEqual(member("consul03"), ["alive server"]);

        // A role change: the same machine, new steps; the old server steps' deletes leave it alone.
        log1 = await upWith("consul03 made a client", withExtra(["consul-client"]));
        assert.match(log1, /consul-service on consul03 belongs to consul-swarm:consul:ConsulClient\/consul03-consul-service, not to consul-swarm:consul:ConsulServer\/consul03-consul-service: left as it is/);
        assert.match(log1, /consul-install on consul03 belongs to consul-swarm:consul:ConsulClient/);
        assert.doesNotMatch(log1, /consul03 left the Consul cluster/, "no old delete acted on the live host");
        // Its raft entry outlives the server (SIGTERM does not leave): the verify step removes it
        // unless autopilot's tick came first.
        log(`consul03 made a client: ${log1.match(/removed raft peer [^\n]*/)?.[0] ?? "its raft entry was gone before the verify step looked"}`);
        assert.deepEqual(await voters(), ["consul01:true", "consul02:true", "consulsvr:true"], "the former server is no raft peer");
        assert.deepEqual(member("consul03"), ["alive client"]);

        log1 = await upWith("consul03 taken out", config);
        assert.match(log1, /consul03 left the Consul cluster/);
        assert.equal((await json<{ FailureTolerance: number }>(`${seed}/v1/operator/autopilot/health`)).FailureTolerance, 1);
        assert.equal((await json<string[]>(`${seed}/v1/kv/e2e/scale/?keys`)).length, KEYS + 1, "no key lost");
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, `then nothing to do: ${JSON.stringify(again.summary.resourceChanges)}`);
    });

    it("taking out more servers at once than the cluster can lose is refused at preview and at up (with --continue-on-error too), before any server goes", async () => {
        await stack.setAllConfig({ ...baseConfig(ROLLING_CHANGE), "consul-swarm:hosts": { value: JSON.stringify([HOSTS[0]]) } });
        try {
            const refused = /hosts: this change takes 2 of the 3 Consul servers out at once: consul01 consul02; a cluster of 3 keeps its quorum losing at most 1\. Take out at most 1 server\(s\) per up/;
            await assert.rejects(stack.preview(), refused, "a pull request's preview shows the refusal");
            const ran = stepsOnHosts();
            await assert.rejects(stack.up({ onEvent: ran.onEvent }), refused);
            // A failed check stops the whole update even under --continue-on-error (the engine's
            // documented behaviour): no delete of the servers' steps runs either (npm run dev uses it).
            await assert.rejects(stack.up({ onEvent: ran.onEvent, continueOnError: true }), refused);
            assert.deepEqual(ran.steps, [], "no step ran on any host");
            const cfg = await json<{ Servers: { Node: string; Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`);
            assert.deepEqual(cfg.Servers.map((x) => `${x.Node}:${x.Voter}`).sort(), ["consul01:true", "consul02:true", "consulsvr:true"], "every server still votes");
            for (const h of HOSTS) {
                assert.equal(onHost(h.name, "systemctl is-active consul").trim(), "active", `${h.name} still runs`);
            }
        } finally {
            await stack.setAllConfig(baseConfig(ROLLING_CHANGE));
            await stack.up();
        }
    });

    it("a datacenter rename: refused at preview and at up before any step on a host, with the safe path; the revert runs nothing on a host", async () => {
        const configs = Object.fromEntries(HOSTS.map((h) => [h.name, onHost(h.name, "md5sum /etc/consul.d/consul.json")]));
        // The config the cluster runs with now (earlier tests leave theirs applied): the revert
        // puts it back exactly.
        const consulNow = (await stack.getConfig("consul-swarm:consul")).value;
        const cases = [
            { field: "datacenter", apply: () => stack.setConfig("consul-swarm:datacenter", { value: "dc9" }), refused: /datacenter: dc1 → dc9: a running cluster cannot be renamed.*federation\.primaryStack/ },
        ];
        // `config rm` of a key that is not set: nothing to take back.
        const revert = async () => {
            await stack.removeConfig("consul-swarm:datacenter").catch(() => undefined);
            await stack.setConfig("consul-swarm:consul", { value: consulNow });
        };
        try {
            for (const c of cases) {
                await c.apply();
                await assert.rejects(stack.preview(), c.refused, `${c.field}: the preview fails`);
                const ran = stepsOnHosts();
                await assert.rejects(stack.up({ onEvent: ran.onEvent }), c.refused, `${c.field}: the up fails`);
                assert.deepEqual(ran.steps, [], `${c.field}: no step ran on any host`);
                await revert();
            }
        } finally {
            await revert();
        }
        // The refused ups recorded the components' new facts (a component has no provider to
        // refuse them): the revert's up changes those records and runs nothing on any host.
        const ran = stepsOnHosts();
        await stack.up({ onEvent: ran.onEvent });
        assert.deepEqual(ran.steps, [], "the revert ran no step on any host");
        await stack.preview({ expectNoChanges: true });
        for (const h of HOSTS) {
            assert.equal(onHost(h.name, "md5sum /etc/consul.d/consul.json"), configs[h.name], `${h.name}: its agent's config untouched`);
            assert.equal(onHost(h.name, "systemctl is-active consul").trim(), "active");
        }
        const cfg = await json<{ Servers: { Node: string; Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`);
        assert.deepEqual(cfg.Servers.map((x) => `${x.Node}:${x.Voter}`).sort(), ["consul01:true", "consul02:true", "consulsvr:true"]);
    });

    it("a swarm-only host: no management token on it or on its command lines; taken out, it is drained and removed from the swarm", async () => {
        const swarmOnly = { name: "swarm05", address: "10.214.0.115", roles: ["swarm-agent"] };
        await stack.setAllConfig({ ...baseConfig(ROLLING_CHANGE), "consul-swarm:hosts": { value: JSON.stringify([...HOSTS, swarmOnly]) } });
        const psSamples: string[] = [];
        let sampling = true;
        const sampler = (async () => {
            while (sampling) {
                try {
                    psSamples.push((await promisify(execFile)("docker", ["exec", container("swarm05"), "ps", "-eo", "args"])).stdout);
                } catch {
                    // the host is not up yet
                }
                await new Promise((r) => setTimeout(r, 200));
            }
        })();
        try {
            await stack.up();
        } finally {
            sampling = false;
            await sampler;
        }
        assert.ok(psSamples.length > 5, `sampled ps ${psSamples.length} times`);
        assert.ok(!psSamples.some((p) => p.includes(token)), "the management token never shows on its command lines");
        const found = onHost("swarm05", `grep -rlF '${token}' /etc /var/lib /opt /root /tmp /run 2>/dev/null || true`).trim();
        assert.equal(found, "", `no file on the swarm-only host holds the management token: ${found}`);
        assert.match(onHost("consulsvr", "docker node ls --format '{{.Hostname}}={{.Status}}'"), /^swarm05=Ready$/m);
        await stack.setAllConfig(baseConfig(ROLLING_CHANGE));
        let downLog = "";
        await stack.up({ onOutput: (o) => (downLog += o) });
        assert.match(downLog, /swarm05 drained and removed from the swarm/);
        assert.doesNotMatch(onHost("consulsvr", "docker node ls --format '{{.Hostname}}'"), /swarm05/, "no stale node entry");
    });

    it("a host that never answers SSH fails fast, naming its address and the tries, while a host added beside it still joins", async () => {
        // swarm06's machine runs, but the stack dials a port where nothing listens; swarm07 is fine.
        const dead = { name: "swarm06", address: "10.214.0.116", roles: ["swarm-agent"], ssh: { port: 2222, waitSeconds: 10 } };
        const good = { name: "swarm07", address: "10.214.0.117", roles: ["swarm-agent"] };
        await stack.setAllConfig({ ...baseConfig(ROLLING_CHANGE), "consul-swarm:hosts": { value: JSON.stringify([...HOSTS, dead, good]) } });
        let upLog = "";
        const t0 = Date.now();
        try {
            await assert.rejects(stack.up({ continueOnError: true, onOutput: (o) => (upLog += o) }));
            const seconds = (Date.now() - t0) / 1000;
            const failure = upLog.split("\n").find((l) => /after \d+ failed attempts/.test(l)) ?? "";
            log(`a dead host's up ended after ${seconds.toFixed(0)} s: ${failure.trim()}`);
            assert.match(upLog, /swarm06-facts[\s\S]*10\.214\.0\.116:2222[\s\S]*after \d+ failed attempts/, "the error names the step's host, its address and the tries");
            assert.ok(seconds < 120, `the up gave up on swarm06 in ${seconds.toFixed(0)} s`);
            assert.match(onHost("consulsvr", "docker node ls --format '{{.Hostname}}={{.Status}}'"), /^swarm07=Ready$/m, "the healthy host joined anyway");
        } finally {
            await stack.setAllConfig(baseConfig(ROLLING_CHANGE));
            const back = await stack.up();
            log(`both taken out again: ${JSON.stringify(back.summary.resourceChanges)}`);
        }
        assert.doesNotMatch(onHost("consulsvr", "docker node ls --format '{{.Hostname}}'"), /swarm0[67]/, "no node entry left");
    });
});
