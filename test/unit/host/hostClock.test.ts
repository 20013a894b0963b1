// The clock check's judgement: a reading from the host's `date` and the times around it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clockReading, clockRefusal } from "../../../components/host/hostClock";

const NOW = Date.parse("2026-12-08T02:00:00Z");

describe("host clock", () => {
    it("reads the skew against the middle of the round trip, with its own uncertainty", () => {
        assert.deepEqual(clockReading(NOW / 1000 + 7200, NOW - 100, NOW + 100), { skewSeconds: 7200, uncertaintySeconds: 2 });
        assert.deepEqual(clockReading(NOW / 1000 - 30, NOW, NOW + 40), { skewSeconds: -30, uncertaintySeconds: 2 });
    });

    it("refuses a host two hours ahead, naming the host, the skew, the bound and the fix", () => {
        const why = clockRefusal("consul01", { skewSeconds: 7200, uncertaintySeconds: 1 }, 120);
        assert.match(String(why), /^host consul01: its clock is 7200 s ahead of this machine's \(the bound is 120 s, certificates\.maxClockSkew\)/);
        assert.match(String(why), /timedatectl set-ntp true/);
        assert.match(String(clockRefusal("c", { skewSeconds: -500, uncertaintySeconds: 1 }, 120)), /500 s behind/);
    });

    it("takes a host within the bound, counting the reading's uncertainty in its favour", () => {
        assert.equal(clockRefusal("c", { skewSeconds: 120, uncertaintySeconds: 1 }, 120), undefined);
        assert.equal(clockRefusal("c", { skewSeconds: -121, uncertaintySeconds: 1 }, 120), undefined);
        assert.notEqual(clockRefusal("c", { skewSeconds: 122, uncertaintySeconds: 1 }, 120), undefined);
    });
});
