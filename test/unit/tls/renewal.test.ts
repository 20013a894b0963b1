// When a certificate is due, and the certificates config: pure functions of their inputs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { dueOf, renewalRound } from "../../../components/tls/renewal";
import { renderScript } from "../../../components/shared/script";
import { notAfter } from "../../../components/tls/certificateAuthority";
import { parseCertificates, parseDuration } from "../../../components/tls/settings";
import { Problems } from "../../../components/shared/fields";

const T0 = Date.parse("2026-12-08T00:00:00Z");

describe("certificate renewal rounds", () => {
    it("keep the recorded round before the due time, and take the next from it on", () => {
        const applied = { due: "2026-12-08T00:05:00.000Z", round: 2 };
        assert.equal(renewalRound(applied, T0), 2);
        assert.equal(renewalRound(applied, T0 + 5 * 60_000), 3);
    });
    it("a certificate is due once it has no more than the renewal share of the validity asked for left, its backdated start aside", () => {
        const ca = execFileSync("sh", ["-c", renderScript("tls-ca", { CN: "t", DAYS: 30, RENEW_DAYS: 7 })], { encoding: "utf8" });
        const issued = Date.now();
        const pem = execFileSync("sh", ["-c", renderScript("tls-cert", { BACKDATE_SECONDS: 300, CN: "c", EKU: "clientAuth", RENEW_SECONDS: 900, SAN: "", VALID_SECONDS: 1200 })], { input: ca, encoding: "utf8" });
        const due = Date.parse(dueOf(notAfter(pem), 900));
        assert.ok(Math.abs(due - (issued + 300_000)) < 3000, `20 minutes, renewed with 15 left: due 5 minutes after issue, got ${new Date(due).toISOString()}`);
    });
    it("start at 0 with nothing recorded (a new certificate, or one made before renewals existed) or a record it cannot read", () => {
        assert.equal(renewalRound(undefined, T0), 0);
        assert.equal(renewalRound({ due: 7 } as never, T0), 0);
    });
});

describe("the certificates config", () => {
    const parse = (raw: unknown) => {
        const p = new Problems();
        return { settings: parseCertificates(p, raw), errors: p.errors };
    };

    it("defaults: a year, renewed with a third left, a 120 s clock bound", () => {
        assert.deepEqual(parse(undefined), { settings: { validitySeconds: 365 * 86400, renewWhenLeft: 1 / 3, maxClockSkewSeconds: 120 }, errors: [] });
        assert.equal(parseDuration("12h"), 43200);
        assert.deepEqual(parse({ validity: "20m", renewWhenLeft: 0.75, maxClockSkew: 60 }).settings, { validitySeconds: 1200, renewWhenLeft: 0.75, maxClockSkewSeconds: 60 });
    });

    it("names the field and the fix for what it cannot take", () => {
        assert.deepEqual(parse({ validity: "5m", renewWhenLeft: 2, maxClockSkew: 900, ttl: 1 }).errors, [
            "certificates.ttl: unknown setting; use one of validity, renewWhenLeft, maxClockSkew",
            'certificates.validity: expected a duration from 10m to 1825d such as "365d", "12h" or "30m", got "5m"; set e.g. "365d" (the stack renews each certificate before it expires)',
            "certificates.renewWhenLeft: expected a fraction from 0.05 to 0.9, got 2; set e.g. 0.33 (renew once a third of the life is left)",
            "certificates.maxClockSkew: expected a whole number from 1 to 300, got 900; set it to e.g. 120",
        ]);
        assert.match(parse({ validity: "10m", renewWhenLeft: 0.1 }).errors.join(), /certificates\.renewWhenLeft: renews 60 s before expiry/);
    });
});
