// Helpers the e2e files share: the stack's Docker TLS client, bounded polling, an up's changes.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OutputMap, Stack, UpResult } from "@pulumi/pulumi/automation";

/** The stack's Docker client material (the dockerTls output) as a DOCKER_CERT_PATH directory. */
export function dockerCertPath(outputs: OutputMap): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-docker-tls-"));
    const t = outputs.dockerTls.value as { caCert: string; clientCert: string; clientKey: string };
    fs.writeFileSync(path.join(dir, "ca.pem"), t.caCert);
    fs.writeFileSync(path.join(dir, "cert.pem"), t.clientCert);
    fs.writeFileSync(path.join(dir, "key.pem"), t.clientKey, { mode: 0o600 });
    return dir;
}

/** The docker CLI against a host's TLS API, the way a user would with DOCKER_TLS_VERIFY=1. */
export function dockerTls(certPath: string, address: string, ...args: string[]): string {
    return execFileSync(
        "docker",
        ["--tlsverify", `--tlscacert=${certPath}/ca.pem`, `--tlscert=${certPath}/cert.pem`, `--tlskey=${certPath}/key.pem`, "-H", `tcp://${address}:2376`, ...args],
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

/** What an up changed, without the unchanged. */
export function changed(r: Pick<UpResult, "summary">): Record<string, number> {
    const c = { ...(r.summary.resourceChanges ?? {}) };
    delete c.same;
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
