// consul-swarm's policy pack: `pulumi preview --policy-pack policy` (see README.md).
// The rules live in rules.ts; this file only serves them to the engine.
import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./rules";

new PolicyPack("consul-swarm", {
    description: "Rules that keep a consul-swarm stack's Consul cluster and Docker swarm healthy.",
    enforcementLevel: "mandatory",
    policies: allPolicies(),
});
