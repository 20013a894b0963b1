// The renewal clock's decisions: pure functions of the schedule it last applied, the config and the time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dueTime, nextSchedule, renewalChanges } from "../../../components/tls/certificateRenewal";
import { parseCertificates, parseDuration } from "../../../components/tls/settings";
import { Problems } from "../../../components/shared/fields";

const T0 = Date.parse("2026-12-08T00:00:00Z");
const MIN = 60_000;
const inputs = { leaves: ["agent-a", "agent-b"], validitySeconds: 20 * 60, renewWhenLeft: 0.75 };

describe("certificate renewal", () => {
    it("schedules a new certificate at the point where the fraction left falls below the setting", () => {
        assert.equal(dueTime(T0, 20 * 60, 0.75), "2026-12-08T00:05:00.000Z");
        assert.deepEqual(nextSchedule(undefined, inputs, T0), {
            rounds: { "agent-a": 0, "agent-b": 0 },
            dueAt: { "agent-a": "2026-12-08T00:05:00.000Z", "agent-b": "2026-12-08T00:05:00.000Z" },
        });
    });

    it("changes nothing before the due time: a no-op stays a no-op", () => {
        const s = nextSchedule(undefined, inputs, T0);
        assert.deepEqual(renewalChanges(s, inputs, T0 + 4 * MIN), []);
        assert.deepEqual(nextSchedule(s, inputs, T0 + 4 * MIN), s);
    });

    it("renews what is due, with a new round and a new due time, and only that", () => {
        const s = nextSchedule(undefined, inputs, T0);
        const later = { ...s, dueAt: { ...s.dueAt, "agent-b": "2026-12-08T00:09:00.000Z" } };
        assert.deepEqual(renewalChanges(later, inputs, T0 + 6 * MIN), ["agent-a"]);
        assert.deepEqual(nextSchedule(later, inputs, T0 + 6 * MIN), {
            rounds: { "agent-a": 1, "agent-b": 0 },
            dueAt: { "agent-a": "2026-12-08T00:11:00.000Z", "agent-b": "2026-12-08T00:09:00.000Z" },
        });
    });

    it("a new host's certificate joins the schedule and a removed one leaves it", () => {
        const s = nextSchedule(undefined, inputs, T0);
        const next = { ...inputs, leaves: ["agent-a", "agent-c"] };
        assert.deepEqual(renewalChanges(s, next, T0 + MIN), ["agent-b", "agent-c"]);
        assert.deepEqual(nextSchedule(s, next, T0 + MIN).rounds, { "agent-a": 0, "agent-c": 0 });
    });

    it("a changed validity is for certificates issued from then on: nothing is renewed for it", () => {
        const s = nextSchedule(undefined, inputs, T0);
        assert.deepEqual(renewalChanges(s, { ...inputs, validitySeconds: 3600 }, T0 + MIN), []);
    });
});

describe("the certificates config", () => {
    const parse = (raw: unknown) => {
        const p = new Problems();
        return { settings: parseCertificates(p, raw), errors: p.errors };
    };

    it("defaults: a year, renewed with a third left, a 120 s clock bound", () => {
        assert.deepEqual(parse(undefined), { settings: { validitySeconds: 365 * 86400, renewWhenLeft: 1 / 3, maxClockSkewSeconds: 120 }, errors: [] });
        assert.deepEqual(parseDuration("12h"), 43200);
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
