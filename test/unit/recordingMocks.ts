// Pulumi mocks that record every registration the way the engine receives it (type, name, parent,
// dependencies, delete-before-replace, inputs with their secret markers, and a component's
// registered outputs), and answer with what the real providers would return. Shared by the mock
// tests of the resource graph and of the policy pack's facts.
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";

export interface Registration {
    type: string;
    name: string;
    parent: string;
    deps: string[];
    deleteBeforeReplace: boolean;
    inputs: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** Pulumi's marker of a secret value in a serialized property. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(v: unknown): boolean {
    return typeof v === "object" && v !== null && Object.values(v as object).includes(SECRET_SIG);
}

function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** What a resource "returns" in the mocks: the outputs the real providers would give. */
/**
 * A real certificate and key (self-signed, a day long), made once: what the mock TLS steps print,
 * so the stack reads their expiry as it does a real one.
 */
export const MOCK_PEM = (() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-mock-pem-"));
    try {
        execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path.join(dir, "k")]);
        execFileSync("openssl", ["req", "-x509", "-new", "-key", path.join(dir, "k"), "-subj", "/CN=mock", "-days", "1", "-out", path.join(dir, "c")]);
        return { cert: fs.readFileSync(path.join(dir, "c"), "utf8"), key: fs.readFileSync(path.join(dir, "k"), "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
})();

export function providerState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    if (type === "command:remote:Command" && name.endsWith("-facts")) {
        const host = name.replace(/-facts$/, "");
        return { ...inputs, stdout: `os_id=debian\nos_version=12\ninit=systemd\nhostname=${host}\n` };
    }
    if (type === "command:remote:Command" && name === "consul-verify") {
        return {
            ...inputs,
            stdout: "leader=10.0.0.1:8300\nmember=consulsvr 10.0.0.1:8301 alive server\nmember=consul01 10.0.0.2:8301 alive server\n",
        };
    }
    if (type === "command:remote:Command" && name === "swarm-verify") {
        return { ...inputs, stdout: "node=consulsvr Ready Active Leader\nnode=consul01 Ready Active \n" };
    }
    if (type === "random:index/randomBytes:RandomBytes") {
        // Different for every resource, as real random bytes are: one token never equals another.
        const bytes = crypto.createHash("sha256").update(name).digest().subarray(0, inputs.length);
        return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    if (type === "command:local:Command" && /^(docker|consul)-tls-/.test(name)) {
        return { ...inputs, stdout: MOCK_PEM.cert + MOCK_PEM.key };
    }
    if (/-renewal$/.test(name) && Array.isArray(inputs.leaves)) {
        const due = new Date(Date.now() + inputs.validitySeconds * 1000 * (1 - inputs.renewWhenLeft)).toISOString();
        return { ...inputs, rounds: Object.fromEntries(inputs.leaves.map((id: string) => [id, 0])), dueAt: Object.fromEntries(inputs.leaves.map((id: string) => [id, due])) };
    }
    if (type === "command:local:Command") {
        return { ...inputs, stdout: "progress\nconsul-swarm-lab:0123456789ab\n" };
    }
    return { ...inputs };
}

/** Installs the mocks for a stack and returns the list every registration is appended to. */
/**
 * The release the mock stacks install by URL (checksum "b" × 64) is known to the release cache, as
 * after a first preview: its executable's identity is "c" × 64. A mock run downloads nothing.
 */
export const MOCK_RELEASE = { zipSha256: "b".repeat(64), binarySha256: "c".repeat(64) };

export async function recordingMocks(stack: string): Promise<Registration[]> {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cs-mock-cache-"));
    fs.mkdirSync(path.join(cache, "consul-releases"));
    fs.writeFileSync(path.join(cache, "consul-releases", `${MOCK_RELEASE.zipSha256}.json`), JSON.stringify({ binarySha256: MOCK_RELEASE.binarySha256 }));
    process.env.CONSUL_SWARM_CACHE = cache;
    const registrations: Registration[] = [];
    const byUrn = new Map<string, Registration>();
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: providerState(args.type, args.name, args.inputs) }),
            call: (args) => {
                throw new Error(`unexpected call to ${args.token}`);
            },
        },
        "consul-swarm",
        stack,
        false,
    );
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
        const r: Registration = {
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent() ? nameOfUrn(req.getParent()) : "",
            deps: req.getDependenciesList().map(nameOfUrn),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            inputs: req.getObject()?.toJavaScript() ?? {},
        };
        registrations.push(r);
        return register(req, (err: unknown, resp: any) => {
            if (resp) {
                byUrn.set(resp.getUrn(), r);
            }
            cb(err, resp);
        });
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, cb: any) => {
        const r = byUrn.get(req.getUrn());
        if (r) {
            r.outputs = req.getOutputs()?.toJavaScript() ?? {};
        }
        return registerOutputs(req, cb);
    };
    return registrations;
}

/** Waits until no registration has arrived for a while (the program's outputs have resolved). */
export async function settled(registrations: Registration[]): Promise<void> {
    let n = -1;
    while (n !== registrations.length) {
        n = registrations.length;
        await new Promise((r) => setTimeout(r, 100));
    }
}
