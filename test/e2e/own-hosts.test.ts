// A user's own stack, exactly as the README's "Pointing it at your own hosts" tells it: hosts that
// exist before the stack (made by another program, test/e2e/fixtures/prepared-hosts), no `lab`
// config, a non-root sudo user, the SSH key as a secret, and Consul from a release zip served over
// HTTP from this machine (on the hosts' network's gateway) with the zip's SHA-256 as SHA256SUMS
// lists it. The policy pack passes its preview; it goes up, takes a change under a reader with its
// keys kept, and is destroyed; each host is then as it was before the stack.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { EngineEvent, LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { writeZip } from "../lib/zip";
import { changed, dockerCertPath, dockerTls, eventually, labTools, log, upChangesNothing } from "./lib";

const repo = path.resolve(__dirname, "..", "..");
const NETWORK = "consul-swarm-e2e-own";
const SUBNET = "10.224.0.0/24";
const GATEWAY = "10.224.0.1";
const HOSTS = [
    { name: "consulsvr", address: "10.224.0.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "10.224.0.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "10.224.0.113", roles: ["consul-server", "swarm-agent"] },
];
const VERSION = "1.14.11";
const ZIP_NAME = `consul_${VERSION}_linux_amd64.zip`;
const execFileAsync = promisify(execFile);
const container = (host: string) => `${NETWORK}-${host}`;
const onHost = (host: string, script: string) => execFileSync("docker", ["exec", container(host), "sh", "-c", script], { encoding: "utf8" });
const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

/**
 * What a host is, as far as a stack could change it: users and groups, unit files, packages,
 * the paths under the directories a stack writes to, and every file's content under /etc. Docker's
 * own data (/var/lib/docker) and the files Docker manages for a container are left out.
 */
const FINGERPRINT = [
    "echo '# users'; getent passwd | cut -d: -f1 | sort",
    "echo '# groups'; getent group | cut -d: -f1 | sort",
    "echo '# units'; systemctl list-unit-files --no-legend --no-pager 2>/dev/null | awk '{print $1, $2}' | sort",
    "echo '# packages'; dpkg-query -W -f '${Package} ${Version}\\n' | sort",
    "echo '# paths'; find /etc /usr/local /opt /var/lib /var/tmp /root /home -xdev " +
        "\\( -path /var/lib/docker -o -path /var/lib/systemd -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/containerd -o -path /var/lib/misc -o -path /var/lib/dhcp -o -path /root/.ssh -o -path /home/ops/.ssh \\) -prune " +
        "-o -printf '%p %m %u:%g\\n' | sort",
    // passwd-, group- and the like are shadow-utils' backups of the previous version, rewritten by
    // any useradd or userdel: the files themselves are compared.
    "echo '# contents'; find /etc -xdev -type f ! -name resolv.conf ! -name hosts ! -name hostname ! -name '*-' -exec md5sum {} + | sort -k2",
].join("; ");

/** Lines only in a, or only in b. */
function difference(a: string, b: string): string[] {
    const la = new Set(a.split("\n"));
    const lb = new Set(b.split("\n"));
    return [...[...la].filter((l) => !lb.has(l)).map((l) => `- ${l}`), ...[...lb].filter((l) => !la.has(l)).map((l) => `+ ${l}`)];
}

describe("a user's own stack: prepared hosts, a sudo user, the key as a secret, Consul from a release zip", { timeout: 20 * 60 * 1000 }, () => {
    let prepared: Stack | undefined;
    let stack: Stack | undefined;
    let server: http.Server | undefined;
    let outputs: OutputMap;
    let token = "";
    const downloads: string[] = [];
    const hostBefore: Record<string, string> = {};
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cs-own-cache-"));
    const binary = fs.readFileSync(path.join(process.env.CONSUL_SWARM_TOOLBIN ?? "", `consul-${VERSION}`));
    let zip: Buffer;
    const withToken = (): RequestInit => ({ headers: { "X-Consul-Token": token }, signal: AbortSignal.timeout(5000) });

    before(async () => {
        // The hosts exist first, made by a program of their own, as a user's machines are.
        prepared = await LocalWorkspace.createOrSelectStack({ stackName: "e2e-prepared", workDir: path.join(repo, "test", "e2e", "fixtures", "prepared-hosts") });
        await prepared.setAllConfig({
            "prepared-hosts:hosts": { value: JSON.stringify(HOSTS.map(({ name, address }) => ({ name, address }))) },
            "prepared-hosts:subnet": { value: SUBNET },
            "prepared-hosts:networkName": { value: NETWORK },
        });
        const hosts = await prepared.up({ onOutput: (o) => process.stderr.write(o) });
        for (const h of HOSTS) {
            await eventually(`${h.name} booted`, 60, async () => {
                assert.match(onHost(h.name, "systemctl is-system-running || true"), /running|degraded/);
            });
            hostBefore[h.name] = onHost(h.name, FINGERPRINT);
        }

        // HashiCorp's release, as a user downloads it: a zip holding `consul`, its checksum the zip's.
        zip = writeZip([{ name: "LICENSE.txt", data: Buffer.from("Mozilla Public License, version 2.0\n") }, { name: "consul", data: binary }]);
        server = http.createServer((req, res) => {
            downloads.push(`${req.socket.remoteAddress} ${req.url}`);
            if (req.url === `/${ZIP_NAME}`) {
                res.writeHead(200, { "content-type": "application/zip", "content-length": zip.length }).end(zip);
            } else {
                res.writeHead(404).end();
            }
        });
        // On the hosts' network only: its gateway is this machine's address on that bridge.
        await new Promise<void>((resolve, reject) => server!.listen(0, GATEWAY, resolve).on("error", reject));
        const url = `http://${GATEWAY}:${(server.address() as AddressInfo).port}/${ZIP_NAME}`;

        // The README's steps: a stack of the real program with no lab, the key as a secret.
        stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "e2e-own", workDir: repo },
            // A cache of its own: the program reads the release's executable from the download itself.
            { envVars: { CONSUL_SWARM_CACHE: cache } },
        );
        await stack.setAllConfig({
            "consul-swarm:hosts": { value: JSON.stringify(HOSTS) },
            "consul-swarm:ssh": { value: JSON.stringify({ user: "ops" }) },
            "consul-swarm:sshPrivateKey": { value: String(hosts.outputs.privateKey.value), secret: true },
            "consul-swarm:consul": { value: JSON.stringify({ version: VERSION, install: { url, sha256: sha256(zip) } }) },
            // Certificates that live 12 minutes and are due 3 minutes after they are issued: the
            // renewal case below waits for that, while the cases before it run (the clock case
            // first: its up must find nothing due).
            "consul-swarm:certificates": { value: JSON.stringify({ validity: "12m", renewWhenLeft: 0.75 }) },
        });
    });

    after(async () => {
        try {
            if (stack) {
                await stack.destroy({ onOutput: (o) => process.stderr.write(o) });
                await stack.workspace.removeStack("e2e-own");
            }
        } finally {
            server?.closeAllConnections();
            server?.close();
            fs.rmSync(cache, { recursive: true, force: true });
            if (prepared) {
                await prepared.destroy({ onOutput: (o) => process.stderr.write(o) });
                await prepared.workspace.removeStack("e2e-prepared");
            }
        }
    });

    it("the policy pack passes its preview, with nothing of the stack on any host yet", async () => {
        const events: string[] = [];
        const onEvent = (e: EngineEvent) => {
            if (e.policyEvent) {
                events.push(`${e.policyEvent.policyName} ${e.policyEvent.enforcementLevel}: ${e.policyEvent.message}`);
            }
        };
        await stack!.preview({ policyPacks: [path.join(repo, "policy")], onEvent, color: "never" });
        assert.deepEqual(events.filter((e) => / mandatory:/.test(e)), [], events.join(" | "));
        assert.deepEqual(downloads.map((d) => d.split(" ")[1]), [`/${ZIP_NAME}`], "the preview read the release once, on this machine");
        for (const h of HOSTS) {
            assert.equal(onHost(h.name, "test -e /usr/local/bin/consul && echo yes || echo no").trim(), "no", `${h.name}: untouched by the preview`);
        }
    });

    it("up installs the zip's executable on every host through sudo, and the cluster forms", async () => {
        const up = await stack!.up({ onOutput: (o) => process.stderr.write(o) });
        outputs = up.outputs;
        token = String(outputs.aclBootstrapToken.value);
        for (const h of HOSTS) {
            assert.equal(onHost(h.name, "sha256sum /usr/local/bin/consul | cut -d' ' -f1").trim(), sha256(binary), `${h.name}: the executable from the zip`);
            assert.ok(downloads.some((d) => d.startsWith(`${h.address} `)), `${h.name} downloaded the release itself: ${downloads.join(", ")}`);
            // The stack logged in as ops; root never did.
            const logins = onHost(h.name, "journalctl --no-pager -o cat _COMM=sshd | grep -o 'Accepted publickey for [a-z]*' | sort -u");
            assert.match(logins, /Accepted publickey for ops/);
            assert.doesNotMatch(logins, /for root/);
        }
        const fromHere = downloads.filter((d) => !HOSTS.some((h) => d.startsWith(`${h.address} `)));
        assert.equal(fromHere.length, 1, `the program downloaded it once, at the preview, and kept its identity: ${downloads.join(", ")}`);
        const members = onHost("consulsvr", "CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul members");
        assert.equal(members.split("\n").filter((l) => / alive +server /.test(l)).length, 3, members);
    });

    it("a second up changes nothing and downloads nothing", async () => {
        const n = downloads.length;
        const up = await stack!.up();
        assert.deepEqual(changed(up), {});
        assert.equal(downloads.length, n, "every host already has the executable");
    });

    it("the preview names the certificates that end within 30 days (policy pack, advisory), with their end", async () => {
        // These end in minutes; asked before they are due (a due one is unknown at preview: it is issued anew).
        const advice: string[] = [];
        await stack!.preview({
            policyPacks: [path.join(repo, "policy")],
            color: "never",
            onEvent: (e) => e.policyEvent && advice.push(`${e.policyEvent.policyName}: ${e.policyEvent.message}`),
        });
        assert.ok(advice.some((a) => /^certificate-expiring: [\s\S]*Certificate consul-tls: agent-consul01 ends at .*, in \d+ minute\(s\)/.test(a)), advice.join(" | "));
    });

    it("a host whose clock is 2 hours off is refused at preview and up, naming the host and the skew; nothing runs on any host", async () => {
        // A stand-in `date` two hours ahead (the lab hosts share this machine's clock: it is never changed).
        const standIn = "/usr/local/bin/date";
        onHost("consul01", `printf '%s\\n' '#!/bin/sh' 'exec /bin/date -d "@$(( $(/bin/date +%s) + 7200 ))" "$@"' > ${standIn} && chmod 755 ${standIn}`);
        try {
            assert.match(onHost("consul01", "su ops -c 'date -u +%s'"), /^\d+$/m);
            const pidsBefore = HOSTS.map((h) => onHost(h.name, "systemctl show -p MainPID --value consul").trim());
            const refused = /host consul01: its clock is 7\d{3} s ahead of this machine's \(the bound is 120 s, certificates\.maxClockSkew\)/;
            const preview = await stack!.preview({ color: "never" }).then(
                () => "passed",
                (e: Error) => e.message,
            );
            assert.match(preview, refused, "the preview fails, naming the host and the skew");
            assert.doesNotMatch(preview, /PRIVATE KEY/, "the refusal shows no part of the connection");
            const steps: string[] = [];
            const up = await stack!
                .up({
                    color: "never",
                    onEvent: (e) => {
                        const op = e.resOutputsEvent?.metadata.op;
                        if (op && op !== "same" && op !== "read") {
                            steps.push(`${op} ${e.resOutputsEvent!.metadata.urn.split("::").pop()}`);
                        }
                    },
                })
                .then(
                    () => "passed",
                    (e: Error) => e.message,
                );
            assert.match(up, refused, "the up fails the same way");
            assert.deepEqual(steps, [], "no step ran on any host");
            assert.deepEqual(HOSTS.map((h) => onHost(h.name, "systemctl show -p MainPID --value consul").trim()), pidsBefore, "no agent restarted");
        } finally {
            onHost("consul01", `rm -f ${standIn}`);
        }
        const after = await stack!.preview({ color: "never" });
        assert.deepEqual(Object.entries(after.changeSummary).filter(([op]) => op !== "same"), [], "with the clock back, nothing to do");
    });

    it("a change (log level) rolls through the servers with every key kept and readable throughout", async () => {
        const base = `http://${HOSTS[0].address}:8500`;
        for (let i = 0; i < 100; i++) {
            const r = await fetch(`${base}/v1/kv/own/${i}`, { ...withToken(), method: "PUT", body: `v${i}` });
            assert.equal(r.status, 200);
        }
        let reading = true;
        let failures = 0;
        let reads = 0;
        const reader = (async () => {
            while (reading) {
                let ok = false;
                for (const h of HOSTS) {
                    try {
                        ok = (await (await fetch(`http://${h.address}:8500/v1/kv/own/7?raw&stale`, withToken())).text()) === "v7";
                    } catch {
                        ok = false;
                    }
                    if (ok) {
                        break;
                    }
                }
                reads++;
                failures += ok ? 0 : 1;
                await new Promise((r) => setTimeout(r, 200));
            }
        })();
        try {
            await stack!.setConfig("consul-swarm:consul", {
                value: JSON.stringify({ ...JSON.parse((await stack!.getConfig("consul-swarm:consul")).value), logLevel: "DEBUG" }),
            });
            const up = await stack!.up({ onOutput: (o) => process.stderr.write(o) });
            log(`own hosts, log level change: ${JSON.stringify(changed(up))}`);
            assert.ok((changed(up).update ?? 0) >= 3, JSON.stringify(changed(up)));
            assert.equal(changed(up).replace ?? 0, 0);
        } finally {
            reading = false;
            await reader;
        }
        assert.equal(failures, 0, `every one of ${reads} reads through some server answered`);
        const keys = (await (await fetch(`${base}/v1/kv/own/?keys`, withToken())).json()) as string[];
        assert.equal(keys.length, 100);
        for (const h of HOSTS) {
            assert.match(onHost(h.name, "cat /etc/consul.d/consul.json"), /"log_level": ?"DEBUG"/);
        }
    });

    it("an up renews the certificates once due: each agent reloads its own (no restart), each daemon restarts once at most, every key readable, the swarm intact", async () => {
        const tools = labTools(NETWORK, () => token);
        const due = Object.values(outputs.certificateRenewal.value as Record<string, { due: string; round: number }>).map((r) => Date.parse(r.due));
        assert.ok(due.every((t) => !Number.isNaN(t)), JSON.stringify(outputs.certificateRenewal.value));
        const expiryBefore = outputs.certificateExpiry.value as Record<string, string>;
        assert.ok(Object.keys(expiryBefore).includes("consul:agent-consul01") && Object.keys(expiryBefore).includes("docker:server-consul01"), JSON.stringify(expiryBefore));
        for (const [id, ends] of Object.entries(expiryBefore)) {
            if (id !== "consul:ca" && id !== "docker:ca") {
                const life = Date.parse(ends) - Date.now();
                assert.ok(life > 0 && life <= 12 * 60_000, `${id} lives 12 minutes: ends ${ends}`);
            }
        }
        const wait = Math.max(...due) - Date.now() + 2000;
        log(`own hosts: waiting ${Math.round(wait / 1000)} s for the certificates to be due`);
        await new Promise((r) => setTimeout(r, Math.max(0, wait)));
        // Due: the preview shows the seven leaves issued anew (three agents', three daemons', the client's), nothing else replaced.
        const due7 = await stack!.preview({ color: "never" });
        assert.equal(due7.changeSummary.replace, 7, JSON.stringify(due7.changeSummary));
        const serial = (host: string, file: string) => onHost(host, `openssl x509 -noout -serial -in ${file}`).trim();
        const before = Object.fromEntries(HOSTS.map((h) => [h.name, { consul: serial(h.name, "/etc/consul.d/tls/cert.pem"), docker: serial(h.name, "/etc/docker/tls/cert.pem") }]));
        const pids: Record<string, Set<string>> = {};
        let watching = true;
        const watcher = (async () => {
            while (watching) {
                for (const h of HOSTS) {
                    // Asynchronously: the reader and the up's output go on meanwhile.
                    const { stdout } = await execFileAsync("docker", ["exec", container(h.name), "systemctl", "show", "-p", "MainPID", "--value", "consul", "docker"]);
                    stdout
                        .trim()
                        .split(/\n+/)
                        .forEach((pid, i) => pid !== "0" && (pids[`${h.name} ${["consul", "docker"][i]}`] ??= new Set()).add(pid));
                }
                await new Promise((r) => setTimeout(r, 500));
            }
        })();
        const stopReader = tools.kvReader(HOSTS, "own/7", "v7");
        let up;
        try {
            up = await stack!.up({ onOutput: (o) => process.stderr.write(o) });
        } finally {
            watching = false;
            await watcher;
        }
        const read = await stopReader();
        log(`own hosts, renewal: ${JSON.stringify(changed(up))}; reads ${read.reads}, failure windows ${JSON.stringify(read.windows)} ms`);
        assert.ok(read.recovered, "reads work after the renewal");
        assert.ok(read.windows.every((w) => w < 2000), `every failure window under 2 s: ${JSON.stringify(read.windows)}`);
        for (const h of HOSTS) {
            assert.notEqual(serial(h.name, "/etc/consul.d/tls/cert.pem"), before[h.name].consul, `${h.name}: a new Consul certificate`);
            assert.notEqual(serial(h.name, "/etc/docker/tls/cert.pem"), before[h.name].docker, `${h.name}: a new Docker certificate`);
        }
        for (const [unit, seen] of Object.entries(pids)) {
            if (unit.endsWith(" consul")) {
                // Consul reloads its certificates: the agent keeps running, no election.
                assert.equal(seen.size, 1, `${unit} not restarted: pids ${[...seen].join(", ")}`);
            } else {
                assert.ok(seen.size <= 2, `${unit} restarted once at most: pids ${[...seen].join(", ")}`);
            }
        }
        for (const h of HOSTS) {
            const served = onHost(h.name, "openssl s_client -connect 127.0.0.1:8501 </dev/null 2>/dev/null | openssl x509 -noout -serial").trim();
            assert.equal(served, serial(h.name, "/etc/consul.d/tls/cert.pem"), `${h.name}: Consul serves the new certificate`);
        }
        outputs = up.outputs;
        const expiryAfter = outputs.certificateExpiry.value as Record<string, string>;
        assert.equal(expiryAfter["consul:ca"], expiryBefore["consul:ca"], "the CA is the same");
        assert.ok(Date.parse(expiryAfter["consul:agent-consul01"]) > Date.parse(expiryBefore["consul:agent-consul01"]), "the new certificate ends later");
        const keys = (await tools.json<string[]>(`http://${HOSTS[0].address}:8500/v1/kv/own/?keys`)).length;
        assert.equal(keys, 100, "every key is still there");
        const members = onHost("consulsvr", "CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul members");
        assert.equal(members.split("\n").filter((l) => / alive +server /.test(l)).length, 3, members);
        // Docker clients with the renewed client certificate reach every daemon; the swarm kept its nodes.
        const certs = dockerCertPath(outputs);
        const nodes = dockerTls(certs, HOSTS[0].address, "node", "ls", "--format", "{{.Hostname}} {{.Status}}").trim().split("\n").sort();
        assert.deepEqual(nodes, HOSTS.map((h) => `${h.name} Ready`).sort());
        await upChangesNothing(stack!, "the up after the renewal changes nothing");
    });

    it("destroy leaves each host as it was before the stack: no user, directory, unit, file or package of its own", async () => {
        await stack!.destroy({ onOutput: (o) => process.stderr.write(o) });
        await stack!.workspace.removeStack("e2e-own");
        stack = undefined;
        for (const h of HOSTS) {
            const now = onHost(h.name, FINGERPRINT);
            assert.deepEqual(difference(hostBefore[h.name], now), [], `${h.name} differs from before the stack`);
        }
    });
});
