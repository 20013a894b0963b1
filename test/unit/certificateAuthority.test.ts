// The TLS material the stack makes with openssl: real scripts, real certificates, checked with
// Node's own X.509 parser and a TLS handshake on loopback.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as tls from "node:tls";
import { describe, it } from "node:test";
import { splitPemPair } from "../../components/certificateAuthority";
import { renderScript } from "../../components/render";

const run = (script: string, input?: string) => execFileSync("sh", ["-c", script], { input, encoding: "utf8" }).trimEnd();

describe("Docker TLS material", () => {
    const ca = splitPemPair(run(renderScript("tls-ca", { CN: "test CA", DAYS: 1 })));
    const issue = (cn: string, eku: string, san: string) =>
        splitPemPair(run(renderScript("tls-cert", { CN: cn, DAYS: 1, EKU: eku, SAN: san }), ca.cert + ca.key));

    it("makes a CA and signs server and client certificates with it", () => {
        const caX = new crypto.X509Certificate(ca.cert);
        assert.ok(caX.ca, "the CA certificate is a CA");
        const server = issue("consul01", "serverAuth,clientAuth", "IP:10.0.0.2,DNS:consul01,IP:127.0.0.1,DNS:localhost");
        const sx = new crypto.X509Certificate(server.cert);
        assert.ok(sx.verify(caX.publicKey), "signed by the CA");
        assert.ok(!sx.ca);
        assert.ok(sx.checkIP("10.0.0.2") && sx.checkIP("127.0.0.1") && sx.checkHost("consul01"));
        assert.ok(sx.checkPrivateKey(crypto.createPrivateKey(server.key)));
        const client = issue("client", "clientAuth", "");
        assert.ok(new crypto.X509Certificate(client.cert).verify(caX.publicKey));
    });

    it("a server with tlsverify accepts the client certificate and refuses a client without one", async () => {
        const server = issue("localhost", "serverAuth", "IP:127.0.0.1");
        const client = issue("client", "clientAuth", "");
        const srv = tls.createServer({ key: server.key, cert: server.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => s.end("OK"));
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
        const port = (srv.address() as { port: number }).port;
        const talk = (opts: tls.ConnectionOptions) =>
            new Promise<string>((resolve, reject) => {
                const s = tls.connect({ host: "127.0.0.1", port, ca: ca.cert, ...opts }, () => undefined);
                let data = "";
                s.on("data", (d) => (data += d));
                s.on("end", () => resolve(data));
                s.on("error", reject);
            });
        try {
            assert.equal(await talk({ cert: client.cert, key: client.key }), "OK");
            await assert.rejects(talk({}));
        } finally {
            srv.close();
        }
    });

    it("splits output whose last newline was trimmed", () => {
        const p = splitPemPair((ca.cert + ca.key).trimEnd());
        assert.ok(p.key.endsWith("-----END EC PRIVATE KEY-----\n"));
        assert.throws(() => splitPemPair("nothing here"), /expected a certificate and an EC private key/);
    });
});
