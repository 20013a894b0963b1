// The hosts the stack once had and no longer has: the only members (beside its own) the verify
// step may prune. Kept across ups until a host comes back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { departedHosts } from "../../../components/transition/clusterTransition";
import { ClusterShape } from "../../../components/transition/judge";

const shape = (hosts: Record<string, string>): ClusterShape => ({
    datacenter: "dc1",
    consulTls: true,
    consulAcl: true,
    consulVersion: "1.14.11",
    servers: hosts,
    swarmManagers: {},
    swarmWorkers: {},
    hosts,
});
const three = { consulsvr: "10.0.0.1", consul01: "10.0.0.2", consul02: "10.0.0.3" };

describe("departed hosts", () => {
    it("are none on a first up and when the hosts stay", () => {
        assert.deepEqual(departedHosts(undefined, shape(three)), {});
        assert.deepEqual(departedHosts({ shape: shape(three) }, shape(three)), {});
    });

    it("name a host taken out or renamed, with its last address", () => {
        const { consul02: _, ...two } = three;
        assert.deepEqual(departedHosts({ shape: shape(three) }, shape(two)), { consul02: "10.0.0.3" });
        assert.deepEqual(departedHosts({ shape: shape(three) }, shape({ ...two, consul04: "10.0.0.3" })), { consul02: "10.0.0.3" });
    });

    it("are kept across later ups, and a host put back is no longer one", () => {
        const { consul02: _, ...two } = three;
        const after = { shape: shape(two), departed: { consul02: "10.0.0.3" } };
        assert.deepEqual(departedHosts(after, shape({ ...two, consul05: "10.0.0.5" })), { consul02: "10.0.0.3" });
        assert.deepEqual(departedHosts(after, shape(three)), {});
    });

    it("never names a host the stack has now, whatever the state said", () => {
        assert.deepEqual(departedHosts({ shape: shape(three), departed: { consul01: "10.0.0.9" } }, shape(three)), {});
    });
});
