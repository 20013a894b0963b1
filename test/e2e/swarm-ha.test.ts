// A highly available swarm on lab hosts: the tutorial's three hosts, every one a Consul server and
// a swarm manager (the shape of Pulumi.example-ha.yaml). Losing one manager's host keeps the swarm
// answering and scheduling; refresh + up brings the third manager back.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { changed, dockerCertPath, dockerTls, eventually, log } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const STACK = "e2e-ha";
const NETWORK = "consul-swarm-e2e-ha";
const HOSTS = [
    { name: "consulsvr", address: "10.223.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.223.0.112", roles: ["consul-server", "swarm-manager"] },
    { name: "consul02", address: "10.223.0.113", roles: ["consul-server", "swarm-manager"] },
];
const container = (host: string) => `${NETWORK}-${host}`;

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
        await stack.setAllConfig({
            "consul-swarm:lab": { value: JSON.stringify({ subnet: "10.223.0.0/24", networkName: NETWORK }) },
            "consul-swarm:consul": { value: JSON.stringify({ version: "1.14.11", install: { source: "toolchain" } }) },
            "consul-swarm:hosts": { value: JSON.stringify(HOSTS) },
        });
        const up = await stack.up({ onOutput: (o) => process.stderr.write(o) });
        outputs = up.outputs;
        certs = dockerCertPath(outputs);
    });

    after(async () => {
        if (certs) {
            fs.rmSync(certs, { recursive: true, force: true });
        }
        if (stack) {
            await stack.destroy({ onOutput: (o) => process.stderr.write(o) });
            await stack.workspace.removeStack(STACK);
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
        const up = await stack.up({ onOutput: (o) => process.stderr.write(o) });
        log(`up bringing ${leader.name} back: ${JSON.stringify(up.summary.resourceChanges)}`);
        for (const h of HOSTS) {
            const seen = nodes(h);
            assert.deepEqual(Object.values(seen).sort(), ["Ready Leader", "Ready Reachable", "Ready Reachable"], `${h.name}: ${JSON.stringify(seen)}`);
        }
        assert.equal(running(HOSTS[0]).length, 3, "still 3 replicas");
        const again = await stack.up();
        assert.deepEqual(changed(again), {}, `the next up changes nothing: ${JSON.stringify(again.summary.resourceChanges)}`);
    });
});
