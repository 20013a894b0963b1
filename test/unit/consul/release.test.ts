// The Consul binary's identity: a release zip (its checksum from SHA256SUMS), a bare binary at a
// URL, a local zip or binary and the toolchain's build of the same bytes are one identity, the
// SHA-256 of the executable itself; a download is checked before any host is touched.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveInstall } from "../../../components/config";
import { isZip, localBinary, urlBinary, zipEntry } from "../../../components/consul/release";
import { writeZip } from "../../lib/zip";

const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

describe("the Consul binary's identity", () => {
    // Stands for one release's executable: random bytes, so compression really works on it.
    const binary = Buffer.concat([Buffer.from("\x7fELF"), crypto.randomBytes(200_000), Buffer.alloc(100_000, 7)]);
    const zip = writeZip([{ name: "LICENSE.txt", data: Buffer.from("MPL-2.0\n") }, { name: "consul", data: binary }]);
    const storedZip = writeZip([{ name: "consul", data: binary, stored: true }]);
    let dir = "";
    let server: http.Server;
    let base = "";
    const served = new Map<string, Buffer>();
    let requests = 0;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-release-"));
        served.set("/consul_1.14.11_linux_amd64.zip", zip);
        served.set("/consul", binary);
        server = http.createServer((req, res) => {
            requests++;
            const body = served.get(req.url ?? "");
            if (req.url === "/never") {
                return; // accepts, never answers
            }
            res.writeHead(body ? 200 : 404).end(body);
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(() => {
        server.closeAllConnections();
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reads a zip's consul entry, deflated or stored, and names what a zip lacks", () => {
        assert.ok(isZip(zip) && !isZip(binary));
        assert.ok(zipEntry(zip, "consul", "z").equals(binary));
        assert.ok(zipEntry(storedZip, "consul", "z").equals(binary));
        assert.throws(() => zipEntry(writeZip([{ name: "README", data: Buffer.from("x") }]), "consul", "the zip"), /the zip holds no consul \(it holds README\): is it a Consul release zip\?/);
        assert.throws(() => zipEntry(binary, "consul", "the file"), /the file is not a zip archive/);
    });

    it("a release zip by URL (with the zip's checksum), a bare binary by URL, a local zip, a local binary and the toolchain's file agree", async () => {
        const expected = sha(binary);
        const fromZipUrl = await urlBinary({ url: `${base}/consul_1.14.11_linux_amd64.zip`, sha256: sha(zip) }, path.join(dir, "cache-a"));
        const fromBinaryUrl = await urlBinary({ url: `${base}/consul`, sha256: sha(binary) }, path.join(dir, "cache-a"));
        fs.writeFileSync(path.join(dir, "consul.zip"), zip);
        fs.writeFileSync(path.join(dir, "consul-bare"), binary);
        const fromZipFile = localBinary(path.join(dir, "consul.zip"), path.join(dir, "cache-a"));
        const fromFile = localBinary(path.join(dir, "consul-bare"), path.join(dir, "cache-a"));
        // The toolchain's build is a file install of the binary it keeps under its version.
        fs.mkdirSync(path.join(dir, "toolbin"));
        fs.writeFileSync(path.join(dir, "toolbin", "consul-1.14.11"), binary);
        const toolchain = resolveInstall({ kind: "toolchain" }, { CONSUL_SWARM_TOOLBIN: path.join(dir, "toolbin") }, fs.existsSync, "1.14.11");
        assert.equal(toolchain.kind, "file");
        const fromToolchain = localBinary(toolchain.kind === "file" ? toolchain.file : "", path.join(dir, "cache-a"));
        for (const [what, got] of Object.entries({ fromZipUrl, fromBinaryUrl, fromZipFile, fromFile, fromToolchain })) {
            assert.equal(got.sha256, expected, `${what}: the executable's SHA-256`);
        }
        assert.notEqual(sha(zip), expected, "the zip's own checksum is not the identity");
        assert.ok(fs.readFileSync(fromZipFile.file!).equals(binary), "a local zip's executable is what is copied to hosts");
        assert.equal(fromFile.file, path.join(dir, "consul-bare"), "a bare local binary is copied as it is");
    });

    it("a URL's identity is downloaded once per machine: a second preview reads it from the cache", async () => {
        const cache = path.join(dir, "cache-b");
        const install = { url: `${base}/consul_1.14.11_linux_amd64.zip`, sha256: sha(zip) };
        const before = requests;
        await urlBinary(install, cache);
        await urlBinary(install, cache);
        assert.equal(requests - before, 1);
    });

    it("an identity given in the config (consul.install.binarySha256) is taken as it is: nothing is downloaded", async () => {
        const before = requests;
        const got = await urlBinary({ url: `${base}/consul_1.14.11_linux_amd64.zip`, sha256: sha(zip), binarySha256: "d".repeat(64) }, path.join(dir, "cache-e"));
        assert.equal(got.sha256, "d".repeat(64));
        assert.equal(requests, before);
    });

    it("a wrong checksum fails before any host, naming consul.install.sha256 and the SHA-256 found", async () => {
        await assert.rejects(
            urlBinary({ url: `${base}/consul_1.14.11_linux_amd64.zip`, sha256: sha(binary) }, path.join(dir, "cache-c")),
            new RegExp(`consul.install.sha256: .* has SHA-256 ${sha(zip)}, not ${sha(binary)}; set consul.install.sha256 to the line for this file in the release's SHA256SUMS`),
        );
        assert.equal(fs.existsSync(path.join(dir, "cache-c", `${sha(binary)}.json`)), false, "nothing is cached for a failed check");
    });

    it("a URL that is missing, or never answers, fails within its bound naming consul.install.url", async () => {
        await assert.rejects(urlBinary({ url: `${base}/nope.zip`, sha256: sha(zip) }, path.join(dir, "cache-d")), /consul.install.url: could not download .*nope.zip .*HTTP 404.*consul.install.file/);
        const t0 = Date.now();
        await assert.rejects(urlBinary({ url: `${base}/never`, sha256: sha(zip) }, path.join(dir, "cache-d"), 1), /consul.install.url: could not download .*\/never from the machine running Pulumi within 1 s/);
        assert.ok(Date.now() - t0 < 5000, "the bound holds");
    });
});
