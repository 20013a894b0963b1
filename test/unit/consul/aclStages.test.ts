// Consul ACLs switched on a running cluster: which stage an up applies, from what the stack's last
// up recorded, what it says, and what the agents' config holds at each stage.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aclStageNotice, appliedAclStage, consulAclMove } from "../../../components/consul/aclStages";
import { consulAgentConfig } from "../../../components/consul/render";

describe("Consul ACL stages", () => {
    it("moves one stage per up either way; a new cluster starts at consul.acl's end; a switch back turns around", () => {
        assert.deepEqual(consulAclMove(true), { applied: undefined, next: 2 });
        assert.equal(consulAclMove(false).next, 0);
        assert.equal(consulAclMove(true, 0).next, 1);
        assert.equal(consulAclMove(true, 1).next, 2);
        assert.equal(consulAclMove(false, 2).next, 1);
        assert.equal(consulAclMove(false, 1).next, 0);
        assert.equal(consulAclMove(true, 2).next, 2);
    });

    it("reads the applied stage from the last up's outputs; before stages were recorded, from the management token or a primary elsewhere", () => {
        assert.equal(appliedAclStage({}), undefined);
        assert.equal(appliedAclStage({ datacenter: "dc1", consulAclStage: 1 }), 1);
        assert.equal(appliedAclStage({ datacenter: "dc1", aclBootstrapToken: "t", consulPrimaryDatacenter: "dc1" }), 2);
        assert.equal(appliedAclStage({ datacenter: "dc2", aclBootstrapToken: null, consulPrimaryDatacenter: "dc1" }), 2, "a secondary has ACLs and no token of its own");
        assert.equal(appliedAclStage({ datacenter: "dc1", aclBootstrapToken: null, consulPrimaryDatacenter: "dc1" }), 0);
    });

    it("says which stage of two an up applies and what comes next", () => {
        assert.equal(aclStageNotice(consulAclMove(true, 2), true), undefined);
        assert.match(aclStageNotice(consulAclMove(true, 0), true)!, /^consul\.acl false → true on a running cluster goes in 2 rolling stages.*This up applies stage 1 of 2: ACLs on with default allow.*Then run `pulumi up` again \(1 more; next: default deny/);
        assert.match(aclStageNotice(consulAclMove(false, 2), false)!, /^consul\.acl true → false .*stage 1 of 2: ACLs on with default allow/);
        assert.match(aclStageNotice(consulAclMove(false, 1), false)!, /stage 2 of 2: no ACLs\. It is the last/);
    });

    it("the agents' config allows by default only at the middle stage", () => {
        const base = { datacenter: "dc1", nodeName: "n", address: "10.0.0.1", server: true, ui: true, logLevel: "INFO" };
        const acl = { managementToken: "m", agentToken: "a" };
        assert.equal(JSON.parse(consulAgentConfig({ ...base, acl })).acl.default_policy, "deny");
        assert.equal(JSON.parse(consulAgentConfig({ ...base, acl: { ...acl, defaultPolicy: "allow" } })).acl.default_policy, "allow");
    });
});
