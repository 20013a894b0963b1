import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { sshKeyPairFromSeed } from "../../../lab/hosts/sshKey";

describe("sshKeyPairFromSeed", () => {
    const seed = Buffer.alloc(32, 7).toString("base64");
    it("is deterministic and differs per seed", () => {
        assert.deepEqual(sshKeyPairFromSeed(seed), sshKeyPairFromSeed(seed));
        assert.notEqual(sshKeyPairFromSeed(Buffer.alloc(32, 8).toString("base64")).privateKeyPem, sshKeyPairFromSeed(seed).privateKeyPem);
    });
    it("gives a PEM private key whose public half is the authorized_keys line", () => {
        const k = sshKeyPairFromSeed(seed);
        assert.match(k.privateKeyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
        assert.match(k.publicKeyOpenSsh, /^ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY\S+ consul-swarm-lab$/);
        const priv = crypto.createPrivateKey(k.privateKeyPem);
        const sig = crypto.sign("sha256", Buffer.from("hello"), priv);
        // The public key inside the authorized_keys blob verifies what the private key signed.
        const blob = Buffer.from(k.publicKeyOpenSsh.split(" ")[1], "base64");
        const point = blob.subarray(blob.length - 65);
        const pub = crypto.createPublicKey({
            key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
            format: "jwk",
        });
        assert.ok(crypto.verify("sha256", Buffer.from("hello"), pub, sig));
    });
    it("refuses a short seed", () => {
        assert.throws(() => sshKeyPairFromSeed("AAAA"), /need 32 bytes/);
    });
});
