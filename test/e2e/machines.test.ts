// End to end: a host's machine replaced, rebuilt, renamed or gone for good, on the tutorial's three
// lab hosts holding 1,000 KV keys (written by the first test, counted by every later one) with a
// reader polling through the others. Apart from lab.test.ts so that the two run side by side
// (scripts/test-e2e.sh); the tests run in order and each leaves the cluster whole for the next,
// but the last, which leaves it at two servers.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { discardLab, dockerCertPath, dockerTls, eventually, explained, findDrift, labTools, log, upAfterRebuild, upChangesNothing, writeKeys } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const STACK = "e2e-machines";
const NETWORK = "consul-swarm-e2e-machines";
const SUBNET = "10.219.0.0/24";
const HOSTS = [
    { name: "consulsvr", address: "10.219.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.219.0.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "10.219.0.113", roles: ["consul-server", "swarm-agent"] },
];
const container = (host: string) => `${NETWORK}-${host}`;

function baseConfig() {
    return {
        "consul-swarm:lab": { value: JSON.stringify({ subnet: SUBNET, networkName: NETWORK }) },
        "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" } }) },
        "consul-swarm:hosts": { value: JSON.stringify(HOSTS) },
    };
}

let token = "";
const { withToken, http, json, onHost, consulCli, haltPollers, kvReader } = labTools(NETWORK, () => token);

describe("machines replaced, rebuilt, renamed and gone on the tutorial's three lab hosts", { timeout: 30 * 60 * 1000 }, () => {
    let stack: Stack;
    let outputs: OutputMap;
    const seed = `http://${HOSTS[0].address}:8500`;

    before(async () => {
        stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, workDir: repo });
        await stack.setAllConfig(baseConfig());
        const up = await explained("the cold up", () => stack.up({ onOutput: (o) => process.stderr.write(o) }));
        outputs = up.outputs;
        token = String(outputs.aclBootstrapToken.value);
    });

    // What a destroy leaves is checked by lab.test.ts; this file's lab is discarded.
    after(async () => {
        haltPollers();
        if (stack) {
            await discardLab(stack, NETWORK);
        }
    });

    /**
     * A host's machine replaced by a new one at the same address (its lab container removed by
     * hand), then refresh + up, with a reader polling a consistent read through the other
     * servers: the up converges with every key, exactly the configured servers as voters, every
     * swarm node Ready once, and the next up changes nothing.
     */
    async function replaceMachine(name: string, servers: string[], swarmNodes: string[]) {
        const readers = HOSTS.filter((h) => h.name !== name);
        const stopReader = kvReader(readers, "e2e/replace/7", "v");
        let reader = { reads: 0, windows: [] as number[], recovered: false };
        execFileSync("docker", ["rm", "-f", container(name)]);
        try {
            const refresh = await explained(`refresh after removing ${name}`, () => stack.refresh());
            log(`refresh after removing ${name}: ${JSON.stringify(refresh.summary.resourceChanges)}`);
            const up = await upAfterRebuild(`up after replacing ${name}`, () => stack.up());
            log(`up after replacing ${name}: ${JSON.stringify(up.summary.resourceChanges)}`);
        } finally {
            reader = await stopReader();
        }
        const { reads, windows, recovered } = reader;
        log(`replacing ${name}: ${reads} reads, failure windows (ms): ${JSON.stringify(windows)}`);
        assert.ok(recovered && windows.length <= 1 && (windows[0] ?? 0) < 15000, `failure windows ${JSON.stringify(windows)}`);
        assert.equal((await json<string[]>(`${seed}/v1/kv/e2e/replace/?keys`)).length, 1000, "every key is there");
        await eventually(`exactly ${servers} as raft voters, autopilot healthy`, 60, async () => {
            const cfg = await json<{ Servers: { Node: string; Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`);
            assert.deepEqual(cfg.Servers.map((x) => `${x.Node}:${x.Voter}`).sort(), servers.map((n) => `${n}:true`).sort());
            assert.equal((await json<{ Healthy: boolean }>(`${seed}/v1/operator/autopilot/health`)).Healthy, true);
        });
        assert.match(consulCli("consulsvr", "members -status=alive"), new RegExp(`^${name}\\s`, "m"), `${name} alive again`);
        const certs = dockerCertPath(outputs);
        try {
            assert.deepEqual(
                dockerTls(certs, HOSTS[0].address, "node", "ls", "--format", "{{.Hostname}}={{.Status}}").trim().split("\n").sort(),
                swarmNodes.map((n) => `${n}=Ready`).sort(),
                "one swarm, every node Ready once",
            );
        } finally {
            fs.rmSync(certs, { recursive: true, force: true });
        }
        await upChangesNothing(stack);
    }

    it("replacing a server and swarm worker's machine: refresh + up converges, no key lost, one swarm", async () => {
        await writeKeys(HOSTS[1].address, "e2e/replace", withToken);
        await replaceMachine("consul02", ["consul01", "consul02", "consulsvr"], ["consul01", "consul02", "consulsvr"]);
    });

    it("replacing the bootstrap server and swarm manager's machine: it never bootstraps, no key lost, one swarm", async () => {
        await replaceMachine("consulsvr", ["consul01", "consul02", "consulsvr"], ["consul01", "consul02", "consulsvr"]);
        // Consul warns "bootstrap = true: do not enable unless necessary" whenever it starts in bootstrap mode.
        assert.equal(onHost("consulsvr", "journalctl -u consul --no-pager | grep -c 'bootstrap = true' || true").trim(), "0", "the rebuilt server never bootstrapped");
    });

    it("the bootstrap server's machine rebuilt while the servers left have no leader: it starts no second cluster, and joins once a quorum is back, no key lost", async () => {
        // consulsvr's machine gone (the refresh sees it), then consul02's agent stopped (a server
        // stopped stays in raft): consul01 is alone, with no leader and every key on its disk. A
        // bootstrap on the rebuilt machine would elect an empty leader that consul01 could follow.
        execFileSync("docker", ["rm", "-f", container("consulsvr")]);
        await stack.refresh();
        onHost("consul02", "systemctl stop consul");
        let consul02Back = false;
        const quorumBack = (async () => {
            await eventually("the rebuilt consulsvr's agent running", 300, async () => {
                assert.equal(onHost("consulsvr", "systemctl is-active consul || true").trim(), "active");
            });
            onHost("consul02", "systemctl start consul");
            consul02Back = true;
        })();
        try {
            const up = await upAfterRebuild("up rebuilding consulsvr without a leader", () => stack.up());
            log(`up after rebuilding consulsvr without a leader: ${JSON.stringify(up.summary.resourceChanges)}`);
        } finally {
            await quorumBack.catch(() => undefined);
            if (!consul02Back) {
                onHost("consul02", "systemctl start consul");
            }
        }
        assert.ok(consul02Back, "consul02 came back once the rebuilt consulsvr's agent ran");
        assert.equal(onHost("consulsvr", "journalctl -u consul --no-pager | grep -c 'bootstrap = true' || true").trim(), "0", "the rebuilt server never bootstrapped");
        await eventually("every key, exactly the three servers as voters", 60, async () => {
            assert.equal((await json<string[]>(`${seed}/v1/kv/e2e/replace/?keys`)).length, 1000, "every key is there");
            const cfg = await json<{ Servers: { Node: string; Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`);
            assert.deepEqual(cfg.Servers.map((x) => `${x.Node}:${x.Voter}`).sort(), ["consul01:true", "consul02:true", "consulsvr:true"]);
        });
        await upChangesNothing(stack);
    });

    it("replacing a client's machine: it rejoins, no key lost", async () => {
        const client = { name: "consul03", address: "10.219.0.114", roles: ["consul-client"] };
        await stack.setAllConfig({ ...baseConfig(), "consul-swarm:hosts": { value: JSON.stringify([...HOSTS, client]) } });
        await stack.up();
        try {
            await replaceMachine("consul03", ["consul01", "consul02", "consulsvr"], ["consul01", "consul02", "consulsvr"]);
        } finally {
            await stack.setAllConfig(baseConfig());
            await stack.up();
        }
    });

    it("renaming a host (a server and swarm worker) and back: its old steps leave it alone, no key lost, no dead voter or stale member, one swarm; an agent joined by hand is not pruned", async () => {
        // An operator's own agent, joined by hand (on consul01, with ports of its own), then gone
        // without leaving: a failed member no host of the stack ever was, never the stack's to prune.
        const handJoined = JSON.stringify({
            node_name: "handjoined",
            data_dir: "/tmp/handjoined",
            server: false,
            ports: { dns: -1, http: 8510, https: -1, grpc: -1, serf_lan: 8311, serf_wan: -1, server: 8310 },
            // A port of its own for gossip, so the servers' port is given: an address alone means its own.
            retry_join: [`${HOSTS[0].address}:8301`],
        });
        onHost(
            "consul01",
            `printf '%s' '${handJoined}' > /tmp/handjoined.json && ` +
                "setsid consul agent -config-file=/etc/consul.d/consul.json -config-file=/tmp/handjoined.json >/tmp/handjoined.log 2>&1 < /dev/null & echo $! > /tmp/handjoined.pid",
        );
        const handJoinedStatus = () => consulCli("consulsvr", "members").match(/^handjoined\s+\S+\s+(\S+)/m)?.[1] ?? "absent";
        try {
            await eventually("the hand-joined agent alive", 60, async () => assert.equal(handJoinedStatus(), "alive"));
            onHost("consul01", "kill -9 $(cat /tmp/handjoined.pid)");
            await eventually("the hand-joined agent failed", 60, async () => assert.equal(handJoinedStatus(), "failed"));
            await renameAndBack();
        } finally {
            onHost("consul01", "kill -9 $(cat /tmp/handjoined.pid) 2>/dev/null; rm -rf /tmp/handjoined /tmp/handjoined.json /tmp/handjoined.pid /tmp/handjoined.log");
            consulCli("consulsvr", "force-leave -prune handjoined || true");
        }
        await upChangesNothing(stack);
    });

    async function renameAndBack() {
        const renamed = (from: string, to: string) => HOSTS.map((h) => (h.name === from ? { ...h, name: to } : h));
        // Swarm knows a node by its machine's hostname, which a rename in the config leaves as it is.
        const swarmNames = HOSTS.map((h) => h.name);
        const check = async (names: string[]) => {
            assert.equal((await json<string[]>(`${seed}/v1/kv/e2e/replace/?keys`)).length, 1000, "every key is there");
            const cfg = await json<{ Servers: { Node: string; Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`);
            assert.deepEqual(cfg.Servers.map((x) => `${x.Node}:${x.Voter}`).sort(), names.map((n) => `${n}:true`).sort());
            const members = consulCli("consulsvr", "members").trim().split("\n").slice(1).map((r) => r.split(/\s+/).slice(0, 3).join(" "));
            assert.deepEqual(members.map((m) => m.split(" ")[0]).sort(), [...names, "handjoined"].sort(), `no stale member, the hand-joined one kept: ${members}`);
            assert.ok(members.includes(`handjoined ${HOSTS[1].address}:8311 failed`), `the hand-joined agent is still a failed member: ${members}`);
            const nodes = onHost("consulsvr", "docker node ls --format '{{.Hostname}}={{.Status}}'").trim().split("\n").sort();
            assert.deepEqual(nodes, swarmNames.map((n) => `${n}=Ready`).sort(), "one swarm, every node Ready once");
        };
        await stack.setAllConfig({ ...baseConfig(), "consul-swarm:hosts": { value: JSON.stringify(renamed("consul02", "consul04")) } });
        let upLog = "";
        const up = await stack.up({ onOutput: (o) => (upLog += o) });
        log(`up renaming consul02 to consul04: ${JSON.stringify(up.summary.resourceChanges)}`);
        assert.match(upLog, /renamed from consul02 to consul04: it leaves as consul02 and joins again as a new node/);
        for (const part of ["consul-service", "consul-install", "docker", "swarm"]) {
            assert.match(upLog, new RegExp(`${part} on consul02 belongs to \\S+consul04\\S*, not to \\S+consul02\\S*: left as it is`), `the old ${part} step left the host alone`);
        }
        assert.doesNotMatch(upLog, /left the Consul cluster|drained and removed|could not leave/, "no old delete acted on the live host");
        await check(["consul01", "consul04", "consulsvr"]);
        await stack.setAllConfig(baseConfig());
        const back = await stack.up();
        log(`up renaming consul04 back to consul02: ${JSON.stringify(back.summary.resourceChanges)}`);
        await check(["consul01", "consul02", "consulsvr"]);
    }

    it("restarting the bootstrap server after the cluster formed does not split it", async () => {
        assert.equal(onHost("consulsvr", "test -e /etc/consul.d/bootstrap.json && echo yes || echo no").trim(), "no");
        onHost("consulsvr", "systemctl restart consul");
        await eventually("one leader and 3 peers seen from every server", 90, async () => {
            const leaders = new Set<string>();
            for (const h of HOSTS) {
                const leader = await json<string>(`http://${h.address}:8500/v1/status/leader`);
                assert.notEqual(leader, "");
                leaders.add(leader);
                assert.equal((await json<string[]>(`http://${h.address}:8500/v1/status/peers`)).length, 3);
            }
            assert.equal(leaders.size, 1, `leaders: ${[...leaders]}`);
        });
    });

    it("a swarm worker a manager took out (docker node rm) still says active itself: refresh sees it through the manager's node list, up joins it again", async () => {
        onHost("consulsvr", "docker node rm --force consul01 >/dev/null");
        assert.equal(onHost("consul01", "docker info --format '{{.Swarm.LocalNodeState}}'").trim(), "active", "consul01 still says active");
        await stack.refresh();
        const found = findDrift(STACK);
        assert.deepEqual(Object.keys(found), ["swarm-drift-consul01"], JSON.stringify(found));
        assert.match(found["swarm-drift-consul01"].join("\n"), /consul01 is active here, but the manager at tcp:\/\/10\.219\.0\.111:2376 no longer lists it/);
        let upLog = "";
        await explained("up after consul01 was taken out of the swarm", () => stack.up({ onOutput: (o) => (upLog += o) }));
        assert.match(upLog, /10\.219\.0\.112 is no longer listed by the manager at tcp:\/\/10\.219\.0\.111:2376: it leaves its old membership and joins again/);
        assert.deepEqual(onHost("consulsvr", "docker node ls --format '{{.Hostname}}={{.Status}}'").trim().split("\n").sort(), ["consul01=Ready", "consul02=Ready", "consulsvr=Ready"]);
        await upChangesNothing(stack);
    });

    it("a swarm worker made a manager beside the first one is promoted, and made a worker again demoted: docker node ls shows each role, every node Ready, each next up a no-op", async () => {
        const withRoles = (roles: string[]) => HOSTS.map((h) => (h.name === "consul01" ? { ...h, roles } : h));
        /** hostname → "status manager-status", as the first manager lists them. */
        const roles = () =>
            Object.fromEntries(
                onHost("consulsvr", "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'")
                    .trim()
                    .split("\n")
                    .map((l) => l.trim().split(" "))
                    .map(([n, ...rest]) => [n, rest.join(" ")]),
            );
        await stack.setAllConfig({ ...baseConfig(), "consul-swarm:hosts": { value: JSON.stringify(withRoles(["consul-server", "swarm-manager"])) } });
        let upLog = "";
        await explained("up promoting consul01", () => stack.up({ onOutput: (o) => (upLog += o) }));
        assert.match(upLog, /swarm node consul01 is a manager now \(promote\)/);
        let seen = roles();
        assert.match(seen.consul01, /^Ready (Reachable|Leader)$/, JSON.stringify(seen));
        assert.deepEqual(Object.values(seen).sort(), ["Ready", "Ready Leader", "Ready Reachable"], JSON.stringify(seen));
        await upChangesNothing(stack);
        await stack.setAllConfig(baseConfig());
        upLog = "";
        await explained("up demoting consul01", () => stack.up({ onOutput: (o) => (upLog += o) }));
        assert.match(upLog, /swarm node consul01 is a worker now \(demote\)/);
        seen = roles();
        assert.deepEqual(seen, { consul01: "Ready", consul02: "Ready", consulsvr: "Ready Leader" }, JSON.stringify(seen));
        await upChangesNothing(stack);
    });

    it("docker.tls off and on again restarts the workers' dockerd one at a time, each back in the swarm before the next, the swarm intact; a turn a dead worker left is taken over", async () => {
        const workers = HOSTS.filter((h) => h.roles.includes("swarm-agent"));
        const turns = "consul-swarm/swarm/restart-turns";
        /** When each worker's dockerd went down and came back (µs of the kernel's monotonic clock, which the lab hosts share). */
        const restarts = () =>
            workers.map((w) => {
                const p = Object.fromEntries(
                    onHost(w.name, "systemctl show docker -p ActiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic")
                        .trim()
                        .split("\n")
                        .map((l) => l.split("=")),
                );
                return { host: w.name, down: Number(p.ActiveExitTimestampMonotonic), up: Number(p.ActiveEnterTimestampMonotonic) };
            });
        const change = async (what: string, docker: object | undefined) => {
            const before = restarts();
            if (docker) {
                await stack.setConfig("consul-swarm:docker", { value: JSON.stringify(docker) });
            } else {
                await stack.removeConfig("consul-swarm:docker");
            }
            let upLog = "";
            await explained(what, () => stack.up({ onOutput: (o) => (upLog += o) }));
            const after = restarts();
            after.forEach((r, i) => assert.ok(r.down > before[i].up, `${r.host}'s dockerd restarted`));
            const [first, second] = [...after].sort((a, b) => a.down - b.down);
            log(`${what}: ${first.host} down ${((first.up - first.down) / 1e6).toFixed(1)} s, ${second.host} went ${((second.down - first.up) / 1e6).toFixed(1)} s after ${first.host} was back`);
            assert.ok(second.down > first.up, `${second.host}'s dockerd went down while ${first.host}'s was: ${JSON.stringify(after)}`);
            const nodes = onHost("consulsvr", "docker node ls --format '{{.Hostname}}={{.Status}}'").trim().split("\n").sort();
            assert.deepEqual(nodes, HOSTS.map((h) => `${h.name}=Ready`).sort(), "every node Ready");
            assert.equal((await http(`${seed}/v1/kv/${turns}/?keys`, withToken())).status, 404, "every turn given back");
            return upLog;
        };
        // A turn a worker took and never gave back (its host died mid-restart).
        assert.equal((await http(`${seed}/v1/kv/${turns}/0`, { method: "PUT", body: "gone-worker", ...withToken() })).status, 200);
        const upLog = await change("docker.tls off: the tutorial's plain API on 2375", { tls: false });
        assert.match(upLog, /has restart turn 0 \(taken over from gone-worker, unchanged for 2\d s\)/, "the dead worker's turn was taken over");
        for (const h of HOSTS) {
            const os = execFileSync("docker", ["-H", `tcp://${h.address}:2375`, "version", "--format", "{{.Server.Os}}"], { encoding: "utf8" }).trim();
            assert.equal(os, "linux", `${h.name}: plain TCP on 2375`);
            assert.equal(onHost(h.name, "test -e /etc/docker/tls && echo left || echo gone").trim(), "gone", `${h.name}: no key or certificate of the stack left`);
        }
        await change("docker.tls on again: 2376 with client certificates", undefined);
        // A new CA: TLS turned off took the old one away.
        outputs = await stack.outputs();
        const certs = dockerCertPath(outputs);
        try {
            for (const h of HOSTS) {
                assert.equal(dockerTls(certs, h.address, "version", "--format", "{{.Server.Os}}").trim(), "linux", `${h.name}: TLS on 2376 again`);
            }
        } finally {
            fs.rmSync(certs, { recursive: true, force: true });
        }
        await upChangesNothing(stack);
    });

    it("a server's machine gone for good: npm run host-gone takes its steps out of the state without dialing it; an up without it leaves 2 healthy voters, every key, no stale member or swarm node; the next up changes nothing (the file's last test: the cluster stays at two servers)", async () => {
        execFileSync("docker", ["rm", "-f", container("consul02")]);
        const gone = execFileSync("bash", [path.join(repo, "scripts", "host-gone.sh"), STACK, "consul02"], { encoding: "utf8" });
        log(gone.trim().split("\n").pop() ?? "");
        for (const part of ["consul02-facts", "consul02-consul-service", "consul02-consul-install", "swarm-join-consul02"]) {
            assert.match(gone, new RegExp(`out of the state, not run: ${part}$`, "m"), `${part} left the state`);
        }
        assert.doesNotMatch(gone, /not run: (swarm-member-consul02|consul-verify)$/m, "steps on other hosts on its behalf stay");
        const survivors = HOSTS.filter((h) => h.name !== "consul02");
        await stack.setAllConfig({ ...baseConfig(), "consul-swarm:hosts": { value: JSON.stringify(survivors) } });
        const stopReader = kvReader(survivors, "e2e/replace/7", "v");
        let upLog = "";
        try {
            const up = await explained("up without consul02", () => stack.up({ onOutput: (o) => (upLog += o) }));
            log(`up without consul02: ${JSON.stringify(up.summary.resourceChanges)}`);
        } finally {
            const { reads, windows, recovered } = await stopReader();
            log(`consul02 gone for good: ${reads} reads, failure windows (ms): ${JSON.stringify(windows)}`);
            assert.ok(recovered && windows.length === 0, `reads never failed: ${JSON.stringify(windows)}`);
        }
        assert.doesNotMatch(upLog, /10\.219\.0\.113:22/, "no step dialed the gone host");
        assert.match(upLog, /pruned consul02, which is no longer in the stack/);
        assert.match(upLog, /consul02 drained and removed from the swarm/);
        await eventually("2 voters, autopilot healthy", 60, async () => {
            const cfg = await json<{ Servers: { Node: string; Voter: boolean }[] }>(`${seed}/v1/operator/raft/configuration`);
            assert.deepEqual(cfg.Servers.map((x) => `${x.Node}:${x.Voter}`).sort(), ["consul01:true", "consulsvr:true"]);
            assert.equal((await json<{ Healthy: boolean }>(`${seed}/v1/operator/autopilot/health`)).Healthy, true);
        });
        assert.equal((await json<string[]>(`${seed}/v1/kv/e2e/replace/?keys`)).length, 1000, "every key is there");
        assert.doesNotMatch(consulCli("consulsvr", "members"), /^consul02\s/m, "no stale member");
        assert.doesNotMatch(onHost("consulsvr", "docker node ls --format '{{.Hostname}}'"), /consul02/, "no stale swarm node");
        await upChangesNothing(stack);
    });
});
