// The transition judge: which moves from the applied cluster to a new config are refused, each with
// its field, old → new and the safe path; and that the day-2 moves the stack makes stay allowed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClusterShape, judgeTransition, refusalMessage } from "../../../components/transition/judge";

const applied: ClusterShape = {
    datacenter: "dc1",
    consulTls: true,
    consulAcl: true,
    consulVersion: "1.14.11",
    servers: { consulsvr: "10.0.0.1", consul01: "10.0.0.2", consul02: "10.0.0.3" },
    swarmManagers: { consulsvr: "10.0.0.1" },
    swarmWorkers: { consul01: "10.0.0.2", consul02: "10.0.0.3" },
    hosts: { consulsvr: "10.0.0.1", consul01: "10.0.0.2", consul02: "10.0.0.3" },
};
const fields = (next: Partial<ClusterShape>, from: ClusterShape = applied) => judgeTransition(from, { ...from, ...next }).map((r) => r.field);
const reason = (next: Partial<ClusterShape>) => judgeTransition(applied, { ...applied, ...next }).map((r) => r.reason).join("\n");

describe("the transition judge", () => {
    it("judges nothing on a first up, and nothing when the config is the applied one", () => {
        assert.deepEqual(judgeTransition(undefined, applied), []);
        assert.deepEqual(judgeTransition({ ...applied, servers: {} }, { ...applied, datacenter: "dc9" }), [], "no server was ever made");
        assert.deepEqual(fields({}), []);
    });

    it("refuses a datacenter rename, naming old → new and the safe path", () => {
        assert.deepEqual(fields({ datacenter: "dc9" }), ["datacenter"]);
        assert.match(reason({ datacenter: "dc9" }), /^dc1 → dc9: a running cluster cannot be renamed.*federation\.primaryStack/);
    });

    it("lets ACLs move one stage per up either way (deny, allow, off), and refuses a jump of more", () => {
        const stage = (n: number): Partial<ClusterShape> => (n === 1 ? { consulAcl: true, consulAclStage: 1 } : { consulAcl: n === 2, consulAclStage: undefined });
        for (const [from, to] of [[2, 1], [1, 0], [0, 1], [1, 2]]) {
            assert.deepEqual(fields(stage(to), { ...applied, ...stage(from) }), [], `${from} → ${to}`);
        }
        assert.deepEqual(fields({ consulAcl: false }), ["consul.acl"], "deny → off at once");
        assert.deepEqual(fields({ consulAcl: true }, { ...applied, consulAcl: false }), ["consul.acl"], "off → deny at once");
        assert.match(reason({ consulAcl: false }), /^ACL stage 2 → 0: a running cluster moves one stage per up.*consul\.acl: true once/);
    });

    it("lets Consul TLS move one stage per up either way, and refuses a jump of more (the stack's record of its stage lost)", () => {
        const stage = (n: number): Partial<ClusterShape> => (n === 0 || n === 3 ? { consulTls: n === 3, consulTlsStage: undefined } : { consulTls: true, consulTlsStage: n });
        for (const [from, to] of [[3, 2], [2, 1], [1, 0], [0, 1], [1, 2], [2, 3], [2, 2]]) {
            assert.deepEqual(fields(stage(to), { ...applied, ...stage(from) }), [], `${from} → ${to}`);
        }
        assert.deepEqual(fields({ consulTls: false }), ["consul.tls"], "3 → 0 at once");
        assert.deepEqual(fields(stage(3), { ...applied, ...stage(1) }), ["consul.tls"], "1 → 3");
        assert.match(reason({ consulTls: false }), /^TLS stage 3 → 0: a running cluster moves one stage per up.*consul\.tls: true once/);
    });

    it("refuses more servers out at once than the quorum allows, counting by address (a rename or a server made client elsewhere is no loss)", () => {
        const one = { servers: { consulsvr: "10.0.0.1", consul01: "10.0.0.2" } };
        assert.deepEqual(fields(one), [], "3 → 2: one may go");
        const two = { servers: { consulsvr: "10.0.0.1" } };
        assert.deepEqual(fields(two), ["hosts"]);
        assert.match(reason(two), /this change takes 2 of the 3 Consul servers out at once: consul01 consul02; a cluster of 3 keeps its quorum losing at most 1\. Take out at most 1 server\(s\) per up/);
        const five = { ...applied, servers: { ...applied.servers, consul03: "10.0.0.4", consul04: "10.0.0.5" } };
        assert.deepEqual(fields({ servers: applied.servers }, five), [], "5 → 3: two may go");
        assert.deepEqual(fields({ servers: { a: "10.0.0.1", b: "10.0.0.2", c: "10.0.0.3" } }), [], "renamed servers on the same machines");
    });

    it("refuses a host re-addressed in place with its two-step path; lets a swarm role switch through, but not a worker made the first manager", () => {
        const moved = { hosts: { ...applied.hosts, consul02: "10.0.0.9" }, servers: { ...applied.servers, consul02: "10.0.0.9" }, swarmWorkers: { ...applied.swarmWorkers, consul02: "10.0.0.9" } };
        assert.deepEqual(fields(moved), ["hosts[consul02].address"]);
        assert.match(reason(moved), /^10\.0\.0\.3 → 10\.0\.0\.9: .*Take consul02 out of hosts in one up, then add it back with address 10\.0\.0\.9 in the next/);
        const promoted = { swarmManagers: { ...applied.swarmManagers, consul01: "10.0.0.2" }, swarmWorkers: { consul02: "10.0.0.3" }, firstSwarmManager: "consulsvr" };
        assert.deepEqual(fields(promoted), [], "a worker promoted beside the first manager");
        const demoted = { swarmManagers: { consulsvr: "10.0.0.1" }, swarmWorkers: applied.swarmWorkers, firstSwarmManager: "consulsvr" };
        assert.deepEqual(fields(demoted, { ...applied, ...promoted }), [], "a manager demoted while the first one stays");
        const takeover = { swarmManagers: { consul01: "10.0.0.2" }, swarmWorkers: { consul02: "10.0.0.3", consulsvr: "10.0.0.1" }, firstSwarmManager: "consul01" };
        assert.deepEqual(fields(takeover), ["hosts[consul01].roles"]);
        assert.match(reason(takeover), /consul01 would be the first swarm manager .* it is a swarm worker now.* Give consul01 swarm-manager after consulsvr in one up \(it is promoted\), then list it first/);
        const handover = { swarmManagers: { consul01: "10.0.0.2" }, swarmWorkers: { consul02: "10.0.0.3" }, firstSwarmManager: "consul01" };
        assert.deepEqual(fields(handover, { ...applied, ...promoted }), [], "a manager that is one already takes over");
        assert.deepEqual(fields({ swarmWorkers: { consul01: "10.0.0.2" } }), [], "leaving the swarm is allowed");
    });

    it("allows a patch or one-minor upgrade; refuses a skipped minor and a downgrade across minors", () => {
        assert.deepEqual(fields({ consulVersion: "1.14.8" }), [], "a patch back is Consul's to allow");
        assert.deepEqual(fields({ consulVersion: "1.15.2" }), []);
        assert.match(reason({ consulVersion: "1.16.0" }), /an upgrade that skips a minor version.*Upgrade to 1\.15\.x first/);
        assert.match(reason({ consulVersion: "1.13.9" }), /a downgrade across minor versions.*snapshot -- restore/);
        assert.deepEqual(fields({ consulVersion: "2.0.0" }), ["consul.version"]);
    });

    it("lists every refusal at once, saying nothing was changed on any host", () => {
        const all = judgeTransition(applied, { ...applied, datacenter: "dc9", consulTls: false });
        const text = refusalMessage(all);
        assert.match(text, /^consul-swarm: this change cannot be applied to the running cluster; nothing was changed on any host:\n  - datacenter: .*\n  - consul\.tls: /);
    });
});
