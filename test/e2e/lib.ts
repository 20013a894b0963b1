// Helpers the e2e files share: the stack's Docker TLS client, bounded polling, an up's changes.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { EngineEvent, OutputMap, Stack, UpResult } from "@pulumi/pulumi/automation";

/** The stack's Docker client material (the dockerTls output) as a DOCKER_CERT_PATH directory. */
export function dockerCertPath(outputs: OutputMap): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-docker-tls-"));
    const t = outputs.dockerTls.value as { caCert: string; clientCert: string; clientKey: string };
    fs.writeFileSync(path.join(dir, "ca.pem"), t.caCert);
    fs.writeFileSync(path.join(dir, "cert.pem"), t.clientCert);
    fs.writeFileSync(path.join(dir, "key.pem"), t.clientKey, { mode: 0o600 });
    return dir;
}

/** The docker CLI against a host's TLS API (on 2376 unless `address` names a port), the way a user would with DOCKER_TLS_VERIFY=1. */
export function dockerTls(certPath: string, address: string, ...args: string[]): string {
    const endpoint = address.includes(":") ? address : `${address}:2376`;
    return execFileSync(
        "docker",
        ["--tlsverify", `--tlscacert=${certPath}/ca.pem`, `--tlscert=${certPath}/cert.pem`, `--tlskey=${certPath}/key.pem`, "-H", `tcp://${endpoint}`, ...args],
        { encoding: "utf8" },
    );
}

/** Polls until check() passes or the bound runs out; returns the last error on failure. */
export async function eventually(what: string, seconds: number, check: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            await check();
            return;
        } catch (e) {
            last = e;
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`${what} not within ${seconds}s: ${last}`);
}

/**
 * What an up changed: not the unchanged, nor the reads (every up reads the stack's own last
 * outputs, and a secondary datacenter its primary's, through a StackReference).
 */
export function changed(r: Pick<UpResult, "summary">): Record<string, number> {
    const c = { ...(r.summary.resourceChanges ?? {}) };
    delete c.same;
    delete c.read;
    return c;
}

export const log = (m: string) => process.stderr.write(`[e2e] ${m}\n`);

const repoDir = path.resolve(__dirname, "..", "..");

/**
 * Ends a lab stack without `pulumi destroy`: its lab containers, volumes and network are removed
 * (everything named with `labPrefix`, as scripts/test-e2e.sh's cleanup does) and the stack is
 * removed with --force. For a file whose tests do not check what a destroy does: a destroy's
 * graceful leaves, drains and restores take about 50 s of a three-host lab. What a destroy does
 * is checked where it is the point (own-hosts: each host as it was; lab: nothing of the lab left;
 * federation: dc2 gone from dc1).
 */
export async function discardLab(stack: Stack, labPrefix: string): Promise<void> {
    execFileSync("bash", ["-c", '. scripts/env.sh && consul_swarm_remove_lab "$1"', "discard-lab", labPrefix], { cwd: repoDir, stdio: "inherit" });
    await stack.workspace.removeStack(stack.name, { force: true });
}

/**
 * What a file's tests use on its own lab (lab hosts named `<network>-<host>`): Consul's HTTP API
 * with the stack's ACL token (`token()`, set once the stack is up), a shell and the consul CLI on a
 * host, a KV reader polling under a change, and the failed operation told by its error lines.
 */
export function labTools(network: string, token: () => string) {
    const withToken = (): RequestInit => ({ headers: { "X-Consul-Token": token() } });
    async function http(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
        return { status: res.status, body: await res.text() };
    }
    async function json<T>(url: string): Promise<T> {
        const r = await http(url, withToken());
        if (r.status !== 200) {
            throw new Error(`${url}: ${r.status} ${r.body}`);
        }
        return JSON.parse(r.body) as T;
    }
    const onHost = (host: string, script: string): string =>
        execFileSync("docker", ["exec", `${network}-${host}`, "sh", "-c", script], { encoding: "utf8" });
    /** The consul CLI on a host, with the agent's token from the root-only file the stack keeps there. */
    const consulCli = (host: string, args: string): string => onHost(host, `CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul ${args}`);

    /**
     * Polling loops still running. A test whose `up` throws never reaches its stop(); a loop left
     * polling keeps the file's process alive after its last test, until CI's own time limit: the
     * file's `after` calls haltPollers().
     */
    const pollers = new Set<() => void>();
    const haltPollers = () => pollers.forEach((halt) => halt());

    /**
     * Polls a consistent KV read of `key` every 200 ms, through the first of `hosts` that answers,
     * until the returned stop() is called; stop() gives the windows (ms) in which no read worked.
     */
    function kvReader(hosts: { address: string }[], key: string, expected: string) {
        const samples: { t: number; ok: boolean }[] = [];
        let reading = true;
        const halt = () => {
            reading = false;
        };
        pollers.add(halt);
        const loop = (async () => {
            while (reading) {
                const t = Date.now();
                let ok = false;
                for (const h of hosts) {
                    try {
                        ok = (await http(`http://${h.address}:8500/v1/kv/${key}?raw&consistent`, withToken())).body === expected;
                    } catch {
                        ok = false;
                    }
                    if (ok) {
                        break;
                    }
                }
                samples.push({ t, ok });
                await new Promise((r) => setTimeout(r, 200));
            }
        })();
        return async () => {
            halt();
            pollers.delete(halt);
            await loop;
            const windows: number[] = [];
            let start = -1;
            samples.forEach((x, i) => {
                if (!x.ok && start < 0) {
                    start = i;
                }
                if (x.ok && start >= 0) {
                    windows.push(x.t - samples[start].t);
                    start = -1;
                }
            });
            return { reads: samples.length, windows, recovered: start < 0 };
        };
    }
    return { withToken, http, json, onHost, consulCli, pollers, haltPollers, kvReader };
}

/**
 * An engine operation whose failure is told in its error lines only: the whole log of a failed up
 * runs to thousands of lines, and a CI report shows only the end of the output.
 */
export async function explained<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
        return await op();
    } catch (e) {
        throw failure(what, e);
    }
}

/** A failed operation's error, told by its error lines only (see explained). */
function failure(what: string, e: unknown): Error {
    const text = e instanceof Error ? e.message : String(e);
    const lines = text.split("\n").filter((l) => /error|fail|consul-swarm:/i.test(l));
    return new Error(`${what} failed:\n${lines.slice(-20).join("\n")}`);
}

/** 1,000 keys under `prefix`, written through `address`, 50 a transaction (Consul allows 64 operations). */
export async function writeKeys(address: string, prefix: string, withToken: () => RequestInit, count = 1000): Promise<void> {
    for (let i = 0; i < count; i += 50) {
        const ops = Array.from({ length: Math.min(50, count - i) }, (_, j) => ({ KV: { Verb: "set", Key: `${prefix}/${i + j}`, Value: Buffer.from("v").toString("base64") } }));
        const res = await fetch(`http://${address}:8500/v1/txn`, { method: "PUT", body: JSON.stringify(ops), ...withToken(), signal: AbortSignal.timeout(5000) });
        if (res.status !== 200) {
            throw new Error(`writing ${prefix}/${i}…: ${res.status} ${await res.text()}`);
        }
    }
}

/**
 * An up that must change nothing: fails naming each resource it changed and the inputs that
 * differed (from the engine's events), not only how many.
 */
export async function upChangesNothing(stack: Stack, what = "the next up changes nothing"): Promise<void> {
    const changes: string[] = [];
    const up = await stack.up({
        onEvent: (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata;
            if (m && m.op !== "same" && m.op !== "read") {
                changes.push(`${m.op} ${m.urn.slice(m.urn.lastIndexOf("::") + 2)} (${(m.diffs ?? []).join(", ")})`);
            }
        },
    });
    if (Object.keys(changed(up)).length > 0) {
        throw new Error(`${what}: ${JSON.stringify(up.summary.resourceChanges)}: ${changes.join("; ")}`);
    }
}

/** What the stack's drift checks found at its last refresh: check name → findings (those with any). */
export function findDrift(stackName: string): Record<string, string[]> {
    const state = JSON.parse(execFileSync("pulumi", ["stack", "export", "--stack", stackName, "--cwd", repoDir], { encoding: "utf8", maxBuffer: 256 << 20 }));
    const found: Record<string, string[]> = {};
    for (const r of state.deployment.resources) {
        if (String(r.type).endsWith("consul-swarm:DriftCheck") && r.outputs.drift.length > 0) {
            found[String(r.urn).split("::").pop()!] = r.outputs.drift;
        }
    }
    return found;
}

/**
 * The `up` after a lab host's machine was rebuilt. The old steps' deletes dial the new machine
 * while it boots; in the lab, a session accepted during that boot has been cut before its exit
 * status came back ("connection to …:22 lost while running", seen in 2 of 3 full runs on
 * 2026-12-08; not yet understood). What a user does then is run `up` again, which the interrupted
 * runs' tests show converging: so does this, once, saying so; any other failure fails the test.
 */
export async function upAfterRebuild<T>(what: string, up: () => Promise<T>): Promise<T> {
    try {
        return await up();
    } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        if (!/connection to \S+:22 lost while running/.test(text)) {
            throw failure(what, e);
        }
        log(`${what}: the up lost its SSH connection to the rebuilt machine while it booted; running up again`);
        return explained(`${what} (the second up)`, up);
    }
}

/** An HTTPS GET with (or without) a client certificate; rejects when the handshake is refused. */
export function httpsGet(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<string> {
    return new Promise((resolve, reject) => {
        const req = https.get(url, { ...tls, timeout: 5000 }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve(body));
        });
        req.on("error", reject);
        req.on("timeout", () => req.destroy(new Error("timeout")));
    });
}

/**
 * Talks to a Consul server's RPC port the way an agent would: a first byte that says plaintext
 * (0x00) or TLS (0x03), then, for TLS, a handshake with the given client certificate (or none).
 * "accepted" when the server keeps the connection for a second, "refused" when it closes it.
 */
export function consulRpc(address: string, mode: "plain" | "tls", client: { ca: string; cert?: string; key?: string }): Promise<"accepted" | "refused"> {
    return new Promise((resolve) => {
        const sock = net.connect(8300, address, () => {
            sock.write(Buffer.from([mode === "plain" ? 0x00 : 0x03]));
            const conn: net.Socket =
                mode === "plain" ? sock : tls.connect({ socket: sock, servername: "server.dc1.consul", ...client });
            let done = false;
            const finish = (r: "accepted" | "refused") => {
                if (!done) {
                    done = true;
                    resolve(r);
                    conn.destroy();
                }
            };
            conn.on("error", () => finish("refused"));
            conn.on("close", () => finish("refused"));
            conn.on("data", () => undefined);
            // With TLS 1.3 the server checks the client's certificate after the client's handshake
            // ends: a refusal arrives as an alert shortly after.
            setTimeout(() => finish(conn.destroyed ? "refused" : "accepted"), 1500);
        });
        sock.on("error", () => resolve("refused"));
    });
}
