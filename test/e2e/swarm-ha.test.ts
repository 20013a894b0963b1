// A highly available swarm on lab hosts: the tutorial's three hosts, every one a Consul server and
// a swarm manager (the shape of Pulumi.example-ha.yaml), Consul in expect mode. Docker changes
// restart one daemon at a time; losing one manager's host keeps the swarm answering and
// scheduling, and refresh + up brings the third manager back; a fourth server comes and goes
// without restarting the others. The stack logs in as ops, a user with sudo, not as root.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { changed, discardLab, dockerCertPath, dockerTls, eventually, explained, log, upAfterRebuild, upChangesNothing } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const STACK = "e2e-ha";
const NETWORK = "consul-swarm-e2e-ha";
const HOSTS = [
    { name: "consulsvr", address: "10.223.0.111", roles: ["consul-server", "swarm-manager"] },
    { name: "consul01", address: "10.223.0.112", roles: ["consul-server", "swarm-manager"] },
    { name: "consul02", address: "10.223.0.113", roles: ["consul-server", "swarm-manager"] },
];
const container = (host: string) => `${NETWORK}-${host}`;
const CONSUL = { version: "1.14.11", install: { source: "toolchain" }, bootstrapMode: "expect" };
const config = (hosts: object[], docker?: object) => ({
    "consul-swarm:lab": { value: JSON.stringify({ subnet: "10.223.0.0/24", networkName: NETWORK }) },
    "consul-swarm:consul": { value: JSON.stringify(CONSUL) },
    "consul-swarm:hosts": { value: JSON.stringify(hosts) },
    // Like many real hosts: no root login for the stack, a user that may sudo without a password.
    "consul-swarm:ssh": { value: JSON.stringify({ user: "ops" }) },
    ...(docker ? { "consul-swarm:docker": { value: JSON.stringify(docker) } } : {}),
});
const onHost = (host: string, script: string) => execFileSync("docker", ["exec", container(host), "sh", "-c", script], { encoding: "utf8" });

/** Each host makes its own tiny image from its own files: the lab has no registry. */
function sleepImage(host: string) {
    execFileSync("docker", [
        "exec",
        container(host),
        "sh",
        "-c",
        'set -e; r=$(mktemp -d); for f in /usr/bin/sleep $(ldd /usr/bin/sleep | grep -o "/[^ ]*" | sort -u); do cp --parents -L "$f" "$r"; done; ' +
            "tar -C \"$r\" -c . | docker import -c 'CMD [\"/usr/bin/sleep\", \"infinity\"]' - lab/sleep >/dev/null; rm -rf \"$r\"",
    ]);
}

describe("a highly available swarm: three managers on three lab hosts", { timeout: 20 * 60 * 1000 }, () => {
    let stack: Stack;
    let outputs: OutputMap;
    let certs = "";
    const docker = (host: { address: string }, ...args: string[]) => dockerTls(certs, host.address, ...args);

    before(async () => {
        stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, workDir: repo });
        await stack.setAllConfig(config(HOSTS));
        const up = await stack.up({ onOutput: (o) => process.stderr.write(o) });
        outputs = up.outputs;
        certs = dockerCertPath(outputs);
    });

    after(async () => {
        if (certs) {
            fs.rmSync(certs, { recursive: true, force: true });
        }
        if (stack) {
            await discardLab(stack, NETWORK);
        }
    });

    /** `docker node ls` on one manager: hostname → "status manager-status". */
    const nodes = (via: { address: string }) =>
        Object.fromEntries(
            docker(via, "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}")
                .trim()
                .split("\n")
                .map((l) => l.split(" "))
                .map(([n, ...rest]) => [n, rest.join(" ")]),
        );

    it("every host is a manager: each lists the three nodes Ready, one Leader, two Reachable", () => {
        for (const h of HOSTS) {
            const seen = nodes(h);
            assert.deepEqual(Object.keys(seen).sort(), HOSTS.map((x) => x.name).sort(), `${h.name} lists every node once`);
            const states = Object.values(seen).sort();
            assert.deepEqual(states, ["Ready Leader", "Ready Reachable", "Ready Reachable"], `${h.name}: ${JSON.stringify(seen)}`);
        }
    });

    it("every step logged in as ops and ran as root through sudo; root never logged in", () => {
        for (const h of HOSTS) {
            const logins = onHost(h.name, "journalctl --no-pager -o cat _COMM=sshd | grep -o 'Accepted publickey for [a-z]*' | sort | uniq -c");
            assert.match(logins, /Accepted publickey for ops/, `${h.name}: ${logins}`);
            assert.doesNotMatch(logins, /for root/, `${h.name}: ${logins}`);
            const sudo = Number(onHost(h.name, "journalctl --no-pager -o cat _COMM=sudo | grep -c 'ops : .*USER=root ; COMMAND=/usr/bin/sh -c' || true").trim());
            assert.ok(sudo >= 5, `${h.name}: ${sudo} sudo runs by ops`);
            // The stack's own files and services are root's, as with a root login.
            assert.equal(onHost(h.name, "stat -c %U /usr/local/bin/consul /etc/consul.d/consul.json | sort -u").trim(), "root");
        }
    });

    it("a Docker change restarts one daemon at a time, the first manager last: some manager answers throughout", async () => {
        await stack.setAllConfig(config(HOSTS, { tcpPort: 2380 }));
        // Polled through each manager's own unix socket, whatever its TCP port is at the moment.
        let polling = true;
        const samples: boolean[] = [];
        const poller = (async () => {
            while (polling) {
                let ok = false;
                for (const h of HOSTS) {
                    try {
                        execFileSync("docker", ["exec", container(h.name), "docker", "node", "ls", "-q"], { stdio: "ignore", timeout: 5000 });
                        ok = true;
                        break;
                    } catch {
                        // this manager's daemon is restarting: the next one
                    }
                }
                samples.push(ok);
                await new Promise((r) => setTimeout(r, 200));
            }
        })();
        let upLog = "";
        try {
            await stack.up({ onOutput: (o) => (upLog += o) });
        } finally {
            polling = false;
            await poller;
        }
        const order = [...upLog.matchAll(/restarting docker on (\w+), its turn/g)].map((m) => m[1]);
        log(`docker tcpPort 2376 → 2380: restarts ${order.join(" → ")}; ${samples.length} polls of docker node ls, ${samples.filter((x) => !x).length} with no manager answering`);
        assert.deepEqual(order, ["consul01", "consul02", "consulsvr"], "one at a time, the first manager last");
        assert.ok(samples.length > 5 && samples.every((x) => x), "some manager answered every poll");
        for (const h of HOSTS) {
            assert.equal(onHost(h.name, "curl -s -o /dev/null -w '%{http_code}' --cacert /etc/docker/tls/ca.pem --cert /etc/docker/tls/cert.pem --key /etc/docker/tls/key.pem https://127.0.0.1:2380/_ping"), "200");
        }
        // And back: the same again.
        await stack.removeConfig("consul-swarm:docker");
        const back = await stack.up();
        assert.deepEqual(Object.keys(changed(back)), ["update"], `updates in place only: ${JSON.stringify(back.summary.resourceChanges)}`);
        assert.deepEqual(Object.values(nodes(HOSTS[0])).sort(), ["Ready Leader", "Ready Reachable", "Ready Reachable"]);
    });

    it("expect mode: a fourth server joins and leaves without restarting the three that run", async () => {
        const started = () => HOSTS.map((h) => onHost(h.name, "stat -c %Y /run/consul/started").trim()).join(" ");
        const before = started();
        const fourth = { name: "consul03", address: "10.223.0.114", roles: ["consul-server"] };
        await stack.setAllConfig(config([...HOSTS, fourth]));
        await stack.up({ onOutput: (o) => process.stderr.write(o) });
        for (const h of HOSTS) {
            assert.equal(JSON.parse(onHost(h.name, "cat /etc/consul.d/bootstrap-expect.json")).bootstrap_expect, 4, `${h.name} would expect 4 on a first start`);
        }
        const peers = onHost("consulsvr", "CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul operator raft list-peers");
        assert.equal(peers.trim().split("\n").slice(1).filter((l) => / true /.test(l)).length, 4, peers);
        await stack.setAllConfig(config(HOSTS));
        await stack.up({ onOutput: (o) => process.stderr.write(o) });
        assert.equal(started(), before, "no running server restarted, neither for the fourth nor for its removal");
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, "the next up changes nothing");
    });

    it("a host whose Docker was uninstalled gets its distribution's package again: refresh sees it, up installs it (through sudo)", async () => {
        const host = HOSTS[2];
        // Removed, not purged: the host keeps its configs and /var/lib/docker (its swarm state),
        // as a host whose package someone removed would.
        onHost(host.name, "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q docker.io >/dev/null 2>&1");
        assert.throws(() => onHost(host.name, "command -v dockerd"), `${host.name} has no dockerd`);
        const refresh = await stack.refresh();
        log(`refresh after removing docker.io on ${host.name}: ${JSON.stringify(refresh.summary.resourceChanges)}`);
        let upLog = "";
        const up = await stack.up({ onOutput: (o) => (upLog += o) });
        log(`up: ${JSON.stringify(up.summary.resourceChanges)}`);
        assert.match(upLog, new RegExp(`${host.name} has no Docker: installing docker\\.io with apt-get`), upLog.slice(-3000));
        assert.match(onHost(host.name, "dpkg-query -W -f '${Status}' docker.io"), /install ok installed/);
        assert.equal(onHost(host.name, "test -e /var/lib/consul-swarm/docker/docker.installed-by-stack && echo recorded").trim(), "recorded");
        await eventually("the three managers Ready again", 90, async () => {
            for (const h of HOSTS) {
                const seen = nodes(h);
                assert.deepEqual(Object.values(seen).sort(), ["Ready Leader", "Ready Reachable", "Ready Reachable"], `${h.name}: ${JSON.stringify(seen)}`);
            }
        });
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, `the next up changes nothing: ${JSON.stringify(again.summary.resourceChanges)}`);
    });

    it("losing one manager's host: the others answer and keep 3 replicas running; refresh + up brings the third manager back", async () => {
        for (const h of HOSTS) {
            sleepImage(h.name);
        }
        // --no-resolve-image: the image exists on each host only, as made above.
        docker(HOSTS[0], "service", "create", "--quiet", "--name", "sleepers", "--replicas", "3", "--no-resolve-image", "lab/sleep");
        const running = (via: { address: string }) =>
            docker(via, "service", "ps", "sleepers", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}")
                .trim()
                .split("\n")
                .filter((l) => / Running /.test(l));
        await eventually("3 replicas running", 90, async () => assert.equal(running(HOSTS[0]).length, 3));
        // The swarm's raft leader's host goes, so the managers must also elect a new swarm leader.
        const leader = HOSTS.find((h) => nodes(HOSTS[0])[h.name] === "Ready Leader")!;
        const others = HOSTS.filter((h) => h !== leader);
        execFileSync("docker", ["rm", "-f", container(leader.name)]);
        log(`removed ${leader.name}, the swarm's leader`);
        await eventually("the other managers answer, see it Down, and run 3 replicas again", 120, async () => {
            for (const h of others) {
                const seen = nodes(h);
                assert.match(seen[leader.name], /^Down Unreachable$/, JSON.stringify(seen));
                assert.equal(Object.values(seen).filter((s) => /Leader/.test(s)).length, 1, `a new leader: ${JSON.stringify(seen)}`);
            }
            const tasks = running(others[0]);
            assert.equal(tasks.length, 3, tasks.join("; "));
            assert.ok(tasks.every((t) => !t.startsWith(`${leader.name} `)), tasks.join("; "));
        });
        const refresh = await stack.refresh();
        log(`refresh after removing ${leader.name}: ${JSON.stringify(refresh.summary.resourceChanges)}`);
        const up = await upAfterRebuild(`up bringing ${leader.name} back`, () => stack.up({ onOutput: (o) => process.stderr.write(o) }));
        log(`up bringing ${leader.name} back: ${JSON.stringify(up.summary.resourceChanges)}`);
        for (const h of HOSTS) {
            const seen = nodes(h);
            assert.deepEqual(Object.values(seen).sort(), ["Ready Leader", "Ready Reachable", "Ready Reachable"], `${h.name}: ${JSON.stringify(seen)}`);
        }
        assert.equal(running(HOSTS[0]).length, 3, "still 3 replicas");
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, `the next up changes nothing: ${JSON.stringify(again.summary.resourceChanges)}`);
    });
    it("the first manager taken out of the stack hands the swarm over (drained, demoted, its entry gone): the two that stay keep every node and the service; put back, it is the first manager again", async () => {
        const [first, ...stay] = HOSTS;
        const running = (via: { address: string }) =>
            docker(via, "service", "ps", "sleepers", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}")
                .trim()
                .split("\n")
                .filter((l) => / Running /.test(l));
        await stack.setAllConfig(config(stay));
        let upLog = "";
        await explained(`up without ${first.name}`, () => stack.up({ onOutput: (o) => (upLog += o) }));
        assert.match(upLog, new RegExp(`${first.name} hands the swarm over to the managers that stay`));
        assert.match(upLog, new RegExp(`${first.name} left the swarm; the managers that stay run it`));
        assert.match(upLog, /swarm node consul01 belongs to \S+swarm-init-consul01, not to \S+swarm-member-consul01: left in the swarm/, "the new first manager's old membership step left it alone");
        for (const h of stay) {
            const seen = nodes(h);
            assert.deepEqual(Object.keys(seen).sort(), stay.map((x) => x.name).sort(), `${h.name} lists the two that stay, no entry of ${first.name}: ${JSON.stringify(seen)}`);
            assert.deepEqual(Object.values(seen).sort(), ["Ready Leader", "Ready Reachable"], `${h.name}: ${JSON.stringify(seen)}`);
        }
        await eventually("3 replicas running on the two that stay", 90, async () => assert.equal(running(stay[0]).length, 3));
        await upChangesNothing(stack);

        await stack.setAllConfig(config(HOSTS));
        await explained(`up with ${first.name} back`, () => stack.up({ onOutput: (o) => process.stderr.write(o) }));
        for (const h of HOSTS) {
            const seen = nodes(h);
            assert.deepEqual(Object.values(seen).sort(), ["Ready Leader", "Ready Reachable", "Ready Reachable"], `${h.name}: ${JSON.stringify(seen)}`);
        }
        assert.equal(running(stay[0]).length, 3, "still 3 replicas");
        await upChangesNothing(stack);
    });
});
