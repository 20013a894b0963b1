// The Consul binary a host gets, and its identity: the SHA-256 of the `consul` executable itself.
// A release zip's checksum (what HashiCorp's SHA256SUMS lists and a user copies) names the zip, not
// the binary in it, so the identity is read from the binary whichever way it travels: a zip or a
// bare binary at a URL, a local zip or binary, the toolchain's build. The same bytes are then the
// same identity, and only a new binary restarts an agent. No resources here.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { ResolvedInstall } from "../config";
import { sha256, sha256File } from "../shared/script";


export interface ConsulBinary {
    /** SHA-256 of the `consul` executable: what decides a reinstall and a restart, and what hosts check. */
    sha256: string;
    /** For a file install: the bare binary that is copied to the host (extracted first from a zip). */
    file?: string;
}

/** The name of the executable inside HashiCorp's release zips. */
const ZIP_ENTRY = "consul";

/** Whether the bytes start like a zip archive (a local file header). */
export function isZip(head: Buffer): boolean {
    return head.length >= 4 && head.readUInt32LE(0) === 0x04034b50;
}

/**
 * The bytes of one entry of a zip archive (stored or deflated), found through the central
 * directory as unzip finds it. Throws naming what is wrong: not a zip, no such entry, a method
 * other than stored or deflate.
 */
export function zipEntry(zip: Buffer, name: string, what: string): Buffer {
    // The end of central directory record: 22 bytes plus a comment of up to 64 KiB, at the end.
    let eocd = -1;
    for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
        if (zip.readUInt32LE(i) === 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) {
        throw new Error(`${what} is not a zip archive (no central directory)`);
    }
    const entries = zip.readUInt16LE(eocd + 10);
    let at = zip.readUInt32LE(eocd + 16);
    const names: string[] = [];
    for (let n = 0; n < entries; n++) {
        if (zip.readUInt32LE(at) !== 0x02014b50) {
            throw new Error(`${what}: a damaged zip central directory`);
        }
        const method = zip.readUInt16LE(at + 10);
        const compressedSize = zip.readUInt32LE(at + 20);
        const nameLength = zip.readUInt16LE(at + 28);
        const extraLength = zip.readUInt16LE(at + 30);
        const commentLength = zip.readUInt16LE(at + 32);
        const localHeader = zip.readUInt32LE(at + 42);
        const entryName = zip.toString("utf8", at + 46, at + 46 + nameLength);
        names.push(entryName);
        if (entryName === name) {
            const dataAt = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
            const data = zip.subarray(dataAt, dataAt + compressedSize);
            if (method === 0) {
                return Buffer.from(data);
            }
            if (method === 8) {
                return zlib.inflateRawSync(data);
            }
            throw new Error(`${what}: ${name} is compressed with method ${method}; only stored and deflate are read`);
        }
        at += 46 + nameLength + extraLength + commentLength;
    }
    throw new Error(`${what} holds no ${name} (it holds ${names.join(", ") || "nothing"}): is it a Consul release zip?`);
}

/** Where downloaded releases' identities and extracted binaries are kept between runs. */
export function releaseCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    const root = env.CONSUL_SWARM_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "consul-swarm");
    return path.join(root, "consul-releases");
}

/** A local install file: a bare binary as it is, a zip's `consul` extracted once into the cache. */
export function localBinary(file: string, cacheDir: string = releaseCacheDir()): ConsulBinary {
    const fd = fs.openSync(file, "r");
    const head = Buffer.alloc(4);
    try {
        fs.readSync(fd, head, 0, 4, 0);
    } finally {
        fs.closeSync(fd);
    }
    if (!isZip(head)) {
        return { sha256: sha256File(file), file };
    }
    const zipSha = sha256File(file);
    const out = path.join(cacheDir, zipSha, ZIP_ENTRY);
    if (!fs.existsSync(out)) {
        const binary = zipEntry(fs.readFileSync(file), ZIP_ENTRY, `consul.install.file ${file}`);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        // Written whole under another name first: a run killed mid-write leaves no half binary.
        const partial = `${out}.${process.pid}.partial`;
        fs.writeFileSync(partial, binary, { mode: 0o755 });
        fs.renameSync(partial, out);
    }
    return { sha256: sha256File(out), file: out };
}

/** The identity of the binary behind a checked download (a zip's `consul`, or the download itself). */
export function downloadedBinarySha256(download: Buffer, what: string): string {
    return isZip(download) ? sha256(zipEntry(download, ZIP_ENTRY, what)) : sha256(download);
}

/**
 * A URL install's binary identity. The download is checked against `consul.install.sha256` here,
 * before any host is touched, so a wrong checksum fails the preview, not every host's install.
 * Known identities are kept per checksum: a preview downloads a release once per machine. Given
 * in the config (`consul.install.binarySha256`), the identity is taken as it is: nothing is
 * downloaded here, and the hosts check the executable against it.
 */
export async function urlBinary(
    install: { url: string; sha256: string; binarySha256?: string },
    cacheDir: string = releaseCacheDir(),
    timeoutSeconds = 300,
): Promise<ConsulBinary> {
    if (install.binarySha256 !== undefined) {
        return { sha256: install.binarySha256 };
    }
    const record = path.join(cacheDir, `${install.sha256}.json`);
    try {
        const known = JSON.parse(fs.readFileSync(record, "utf8")) as { binarySha256?: unknown };
        if (typeof known.binarySha256 === "string" && /^[0-9a-f]{64}$/.test(known.binarySha256)) {
            return { sha256: known.binarySha256 };
        }
    } catch {
        // Not known yet: download it.
    }
    let body: Buffer;
    try {
        const res = await fetch(install.url, { signal: AbortSignal.timeout(timeoutSeconds * 1000) });
        if (!res.ok) {
            throw new Error(`HTTP ${res.status}`);
        }
        body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
        throw new Error(
            `consul.install.url: could not download ${install.url} from the machine running Pulumi within ${timeoutSeconds} s (${(e as Error).message}); ` +
                "the stack reads the binary's SHA-256 from the release before any host installs it: make the URL reachable from here, or download it and set consul.install.file instead",
        );
    }
    const got = crypto.createHash("sha256").update(body).digest("hex");
    if (got !== install.sha256) {
        throw new Error(
            `consul.install.sha256: ${install.url} has SHA-256 ${got}, not ${install.sha256}; set consul.install.sha256 to the line for this file in the release's SHA256SUMS`,
        );
    }
    const binarySha256 = downloadedBinarySha256(body, `consul.install.url ${install.url}`);
    fs.mkdirSync(cacheDir, { recursive: true });
    const partial = `${record}.${process.pid}.partial`;
    fs.writeFileSync(partial, JSON.stringify({ url: install.url, binarySha256 }) + "\n");
    fs.renameSync(partial, record);
    return { sha256: binarySha256 };
}

const resolved = new Map<string, Promise<ConsulBinary>>();

/** The binary behind an install source, once per program run (every agent asks for it). */
export function consulBinary(install: ResolvedInstall): Promise<ConsulBinary> {
    const key = JSON.stringify(install);
    let known = resolved.get(key);
    if (known === undefined) {
        known = install.kind === "url" ? urlBinary(install) : Promise.resolve().then(() => localBinary(install.file));
        resolved.set(key, known);
    }
    return known;
}
