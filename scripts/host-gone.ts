// `npm run host-gone -- STACK HOST`: a host that is gone for good (its machine lost, no SSH to
// it) taken out of the stack's state, so that the next `up` without it in the config does not try
// to run its steps' deletes on it (they would dial it until their SSH wait runs out, and fail).
//
// What leaves the state is exactly the steps that run on that host (each remote command or copy
// whose connection is its address); nothing is run on any host here. Steps that run elsewhere on
// its behalf stay, and do their part in the next `up`: the swarm manager's membership step drains
// and removes the node, and the Consul verify step force-leaves the failed agent and removes its
// raft peer (it is a host the stack had: ClusterTransition's departed list).
//
// The state is read twice: once with secrets shown, in memory only, to find which steps dial the
// host (their connection is a secret); the deployment written back is the encrypted export, less
// those steps: no secret is ever written in plaintext.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

interface StateResource {
    urn: string;
    type: string;
    parent?: string;
    inputs?: Record<string, unknown>;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    deletedWith?: string;
}
interface Deployment {
    version: number;
    deployment: { resources?: StateResource[]; pending_operations?: unknown[] } & Record<string, unknown>;
}

function pulumi(args: string[]): string {
    return execFileSync("pulumi", args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024, stdio: ["pipe", "pipe", "inherit"] });
}

/** A plain value from a state property, whether or not it is a secret shown in plaintext. */
function plain(v: unknown): unknown {
    if (v && typeof v === "object" && "4dabf18193072939515e22adb298388d" in v && "plaintext" in v) {
        return JSON.parse((v as { plaintext: string }).plaintext);
    }
    return v;
}

/** Whether something answers TCP at address:port within 3 s (a host gone for good does not). */
function answers(address: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host: address, port, timeout: 3000 });
        s.once("connect", () => (s.destroy(), resolve(true)));
        s.once("timeout", () => (s.destroy(), resolve(false)));
        s.once("error", () => resolve(false));
    });
}

/** The steps that run on the host at `address` (its remote commands and copies), by URN. */
export function stepsOn(resources: StateResource[], address: string): string[] {
    return resources
        .filter((r) => r.type.startsWith("command:remote:"))
        .filter((r) => {
            const connection = plain(r.inputs?.connection) as { host?: unknown } | undefined;
            return connection?.host === address;
        })
        .map((r) => r.urn);
}

/** The deployment without `gone`, and without any reference to them from what stays. */
export function withoutResources(d: Deployment, gone: Set<string>): Deployment {
    const resources = (d.deployment.resources ?? [])
        .filter((r) => !gone.has(r.urn))
        .map((r) => {
            const kept: StateResource = { ...r };
            if (r.dependencies) {
                kept.dependencies = r.dependencies.filter((u) => !gone.has(u));
            }
            if (r.propertyDependencies) {
                kept.propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, us]) => [k, us.filter((u) => !gone.has(u))]));
            }
            if (r.deletedWith && gone.has(r.deletedWith)) {
                delete kept.deletedWith;
            }
            return kept;
        });
    return { ...d, deployment: { ...d.deployment, resources } };
}

async function main() {
    const [stack, host] = process.argv.slice(2);
    if (!stack || !host) {
        console.error("usage: npm run host-gone -- STACK HOST");
        process.exit(2);
    }
    const shown = JSON.parse(pulumi(["stack", "export", "--stack", stack, "--show-secrets"])) as Deployment;
    const resources = shown.deployment.resources ?? [];
    if ((shown.deployment.pending_operations ?? []).length > 0) {
        throw new Error(`stack ${stack} has pending operations (an interrupted up): run \`npm run pulumi -- refresh --stack ${stack}\` first`);
    }
    const hostComponent = resources.find((r) => r.type === "consul-swarm:host:Host" && r.urn.endsWith(`::${host}`));
    const facts = hostComponent && resources.find((r) => r.parent === hostComponent.urn && r.urn.endsWith(`::${host}-facts`));
    const connection = facts && (plain(facts.inputs?.connection) as { host?: string; port?: number } | undefined);
    if (!connection?.host) {
        const known = resources.filter((r) => r.type === "consul-swarm:host:Host").map((r) => r.urn.split("::").pop());
        throw new Error(`stack ${stack} has no host ${host} (its hosts: ${known.join(", ") || "none"})`);
    }
    const address = connection.host;
    const port = connection.port ?? 22;
    if (await answers(address, port)) {
        throw new Error(
            `${host} (${address}) still answers on its SSH port ${port}: it is not gone. Take it out of consul-swarm:hosts and run up: its own steps then leave the cluster and the swarm gracefully.`,
        );
    }
    const gone = new Set(stepsOn(resources, address));
    // Written back: the encrypted export (never the one with secrets shown), less the host's steps.
    const encrypted = JSON.parse(pulumi(["stack", "export", "--stack", stack])) as Deployment;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "consul-swarm-host-gone-"));
    try {
        const file = path.join(dir, "deployment.json");
        fs.writeFileSync(file, JSON.stringify(withoutResources(encrypted, gone)), { mode: 0o600 });
        pulumi(["stack", "import", "--stack", stack, "--file", file]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    for (const urn of [...gone].sort()) {
        console.log(`consul-swarm: out of the state, not run: ${urn.split("::").pop()}`);
    }
    console.log(
        `consul-swarm: ${host} (${address}) is out of stack ${stack}'s state (${gone.size} steps on it). ` +
            `Now take ${host} out of consul-swarm:hosts and run up: a surviving server force-leaves it and removes its raft peer, the swarm manager removes its node.`,
    );
}

if (require.main === module) {
    main().catch((e: Error) => {
        console.error(`consul-swarm: ${e.message}`);
        process.exit(1);
    });
}
