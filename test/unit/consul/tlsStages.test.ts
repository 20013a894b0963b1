// Consul TLS switched on a running cluster: which stage an up applies, from what the stack's last
// up recorded, and what it says about it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiOverHttps, appliedTlsStage, consulTlsMove, nextTlsStage, tlsStageNotice } from "../../../components/consul/tlsStages";

describe("Consul TLS stages", () => {
    it("a new cluster starts at consul.tls's end stage; a cluster at it stays there", () => {
        assert.equal(nextTlsStage(undefined, true), 3);
        assert.equal(nextTlsStage(undefined, false), 0);
        assert.equal(nextTlsStage(3, true), 3);
        assert.equal(nextTlsStage(0, false), 0);
    });

    it("a switch moves one stage per up, either way, and a switch back mid-way turns around", () => {
        const walk = (from: 0 | 1 | 2 | 3, tls: boolean) => {
            const seen: number[] = [];
            let at = from;
            while (seen.length < 5) {
                const next = nextTlsStage(at, tls);
                if (next === at) {
                    break;
                }
                seen.push(next);
                at = next;
            }
            return seen;
        };
        assert.deepEqual(walk(0, true), [1, 2, 3]);
        assert.deepEqual(walk(3, false), [2, 1, 0]);
        assert.deepEqual(walk(1, false), [0], "on at stage 1, switched back: off in one more up");
        assert.deepEqual(walk(2, true), [3]);
    });

    it("reads the applied stage from the last up's outputs; a stack made before stages were recorded from its HTTPS address", () => {
        assert.equal(appliedTlsStage({}), undefined, "nothing applied yet");
        assert.equal(appliedTlsStage({ consulTlsStage: 2, datacenter: "dc1" }), 2);
        assert.equal(appliedTlsStage({ datacenter: "dc1", consulHttpsAddr: "https://10.0.0.1:8501" }), 3);
        assert.equal(appliedTlsStage({ datacenter: "dc1", consulHttpsAddr: null }), 0);
        assert.equal(appliedTlsStage({ datacenter: "dc1", consulTlsStage: "2" }), 0, "not a stage: from the HTTPS address");
    });

    it("says which stage of three an up applies and what comes next; nothing when no switch is under way", () => {
        assert.equal(tlsStageNotice(undefined, 3, true), undefined);
        assert.equal(tlsStageNotice(3, 3, true), undefined);
        assert.match(tlsStageNotice(0, 1, true)!, /^consul\.tls false → true on a running cluster goes in 3 rolling stages.*This up applies stage 1 of 3: every agent gets its certificate.*Then run `pulumi up` again \(2 more; next: every agent sends its RPC over TLS/);
        assert.match(tlsStageNotice(2, 3, true)!, /stage 3 of 3: every agent refuses plain RPC.*It is the last/);
        assert.match(tlsStageNotice(3, 2, false)!, /^consul\.tls true → false .*stage 1 of 3: every agent sends its RPC over TLS.*and still accepts plain RPC\. Then run `pulumi up` again \(2 more/);
        assert.match(tlsStageNotice(1, 0, false)!, /stage 3 of 3: no TLS.*It is the last/);
    });

    it("the stack's own calls to the servers' API go over HTTPS only while every server serves it", () => {
        assert.equal(apiOverHttps(consulTlsMove(true)), true, "a new cluster with TLS");
        assert.equal(apiOverHttps(consulTlsMove(false)), false);
        assert.equal(apiOverHttps(consulTlsMove(true, 0)), false, "0 → 1: the servers are still plain when the up starts");
        assert.equal(apiOverHttps(consulTlsMove(true, 1)), true);
        assert.equal(apiOverHttps(consulTlsMove(false, 1)), false, "1 → 0: plain again");
        assert.equal(apiOverHttps(consulTlsMove(false, 3)), true);
    });
});
