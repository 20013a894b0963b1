// The TLS material the stack makes with openssl: real scripts, real certificates, checked with
// Node's own X.509 parser and a TLS handshake on loopback.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as tls from "node:tls";
import { describe, it } from "node:test";
import { notAfter, splitPemPair } from "../../../components/tls/certificateAuthority";
import { renderScript } from "../../../components/shared/script";

/** Runs a script the way the command provider does, with the previous output in the environment when given. */
const run = (script: string, input?: string, previous?: string) => {
    const env = { ...process.env };
    delete env.PULUMI_COMMAND_STDOUT;
    if (previous !== undefined) {
        env.PULUMI_COMMAND_STDOUT = previous;
    }
    return execFileSync("sh", ["-c", script], { input, env, encoding: "utf8" }).trimEnd();
};
const caScript = (cn: string, days = 30) => renderScript("tls-ca", { CN: cn, DAYS: days, RENEW_DAYS: 7 });
const DAY = 86400;
const certScript = (cn: string, eku: string, san: string, validSeconds = 30 * DAY, renewSeconds = 7 * DAY) =>
    renderScript("tls-cert", { BACKDATE_SECONDS: 300, CN: cn, EKU: eku, RENEW_SECONDS: renewSeconds, SAN: san, VALID_SECONDS: validSeconds });

describe("Docker TLS material", () => {
    const ca = splitPemPair(run(caScript("test CA")));
    const issue = (cn: string, eku: string, san: string) => splitPemPair(run(certScript(cn, eku, san), ca.cert + ca.key));

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

    it("a re-run keeps the previous CA and certificates while they fit the request, and issues anew when they do not", () => {
        const caOut = run(caScript("test CA"));
        assert.equal(run(caScript("test CA"), undefined, caOut), caOut, "the same CA is printed again");
        assert.notEqual(run(caScript("other CA"), undefined, caOut), caOut, "a new common name makes a new CA");
        assert.notEqual(run(caScript("test CA", 30).replace("RENEW_DAYS='7'", "RENEW_DAYS='60'"), undefined, caOut), caOut, "a CA about to expire is renewed");
        const bundle = ca.cert + ca.key;
        const san = "IP:10.0.0.2,DNS:consul01,IP:127.0.0.1,DNS:localhost";
        const leaf = run(certScript("consul01", "serverAuth,clientAuth", san), bundle);
        assert.equal(run(certScript("consul01", "serverAuth,clientAuth", san), bundle, leaf), leaf, "the same certificate is printed again");
        const client = run(certScript("client", "clientAuth", ""), bundle);
        assert.equal(run(certScript("client", "clientAuth", ""), bundle, client), client, "without names too");
        for (const [why, script, input] of [
            ["a new address", certScript("consul01", "serverAuth,clientAuth", san.replace("10.0.0.2", "10.0.0.3")), bundle],
            ["a new name", certScript("consul02", "serverAuth,clientAuth", san), bundle],
            ["a new usage", certScript("consul01", "serverAuth", san), bundle],
            ["a new CA", certScript("consul01", "serverAuth,clientAuth", san), run(caScript("test CA"))],
        ] as const) {
            const again = run(script, input, leaf);
            assert.notEqual(again, leaf, `${why} issues a new certificate`);
            const caCert = new crypto.X509Certificate(splitPemPair(input).cert);
            assert.ok(new crypto.X509Certificate(splitPemPair(again).cert).verify(caCert.publicKey), `${why}: signed by the CA given`);
        }
    });

    it("a certificate lives the validity asked for, to the second, from five minutes back", () => {
        const before = Date.now();
        const out = run(certScript("client", "clientAuth", "", 20 * 60, 15 * 60), ca.cert + ca.key);
        assert.match(out, /^-----BEGIN CERTIFICATE-----/, "nothing but the pair is printed");
        const x = new crypto.X509Certificate(splitPemPair(out).cert);
        const from = Date.parse(x.validFrom);
        const to = Date.parse(x.validTo);
        assert.ok(Math.abs(from - (before - 300_000)) < 5000, `valid from five minutes back: ${x.validFrom}`);
        assert.ok(Math.abs(to - (before + 20 * 60_000)) < 5000, `valid for 20 minutes: ${x.validTo}`);
        // With more than RENEW_SECONDS left it is kept; asked to keep more than it has left, it is renewed.
        assert.equal(run(certScript("client", "clientAuth", "", 20 * 60, 15 * 60), ca.cert + ca.key, out), out);
        assert.notEqual(run(certScript("client", "clientAuth", "", 20 * 60, 25 * 60), ca.cert + ca.key, out), out);
        assert.equal(notAfter(splitPemPair(out).cert), new Date(to).toISOString());
    });

    it("splits output whose last newline was trimmed", () => {
        const p = splitPemPair((ca.cert + ca.key).trimEnd());
        assert.ok(p.key.endsWith("-----END EC PRIVATE KEY-----\n"));
        assert.throws(() => splitPemPair("nothing here"), /expected a certificate and an EC private key/);
    });
});
