// An SSH key pair derived from 32 random bytes (a @pulumi/random secret), so the lab's key is
// created once per stack by a resource and stays the same on every run, with no key tool needed.
import * as crypto from "crypto";

export interface SshKeyPair {
    /** PEM "EC PRIVATE KEY": read by OpenSSH and by Go's x/crypto/ssh alike. */
    privateKeyPem: string;
    /** One authorized_keys line. */
    publicKeyOpenSsh: string;
}

function sshString(b: Buffer): Buffer {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
}

const P256_ORDER = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

/** ECDSA P-256 key pair from a 32-byte seed (base64). Deterministic: same seed, same key. */
export function sshKeyPairFromSeed(seedBase64: string, comment = "consul-swarm-lab"): SshKeyPair {
    const seed = Buffer.from(seedBase64, "base64");
    if (seed.length !== 32) {
        throw new Error(`sshKeyPairFromSeed: need 32 bytes of seed, got ${seed.length}`);
    }
    // A valid private scalar is in [1, n-1]; reducing the seed modulo n-1 and adding 1 maps any seed there.
    const d = (BigInt("0x" + seed.toString("hex")) % (P256_ORDER - 1n)) + 1n;
    const dBytes = Buffer.from(d.toString(16).padStart(64, "0"), "hex");
    const ecdh = crypto.createECDH("prime256v1");
    ecdh.setPrivateKey(dBytes);
    const point = ecdh.getPublicKey(); // 0x04 || X || Y
    const b64url = (b: Buffer) => b.toString("base64url");
    const key = crypto.createPrivateKey({
        key: { kty: "EC", crv: "P-256", d: b64url(dBytes), x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) },
        format: "jwk",
    });
    const privateKeyPem = key.export({ format: "pem", type: "sec1" }).toString();
    const blob = Buffer.concat([
        sshString(Buffer.from("ecdsa-sha2-nistp256")),
        sshString(Buffer.from("nistp256")),
        sshString(point),
    ]);
    return { privateKeyPem, publicKeyOpenSsh: `ecdsa-sha2-nistp256 ${blob.toString("base64")} ${comment}` };
}
