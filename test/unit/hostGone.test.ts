// npm run host-gone: which steps leave the state (those whose connection is the gone host's
// address, a secret shown in plaintext), and that nothing left refers to them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stepsOn, withoutResources } from "../../scripts/host-gone";

const SECRET = "4dabf18193072939515e22adb298388d";
const secret = (v: unknown) => ({ [SECRET]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(v) });
const urn = (type: string, name: string) => `urn:pulumi:dev::consul-swarm::consul-swarm:index:ConsulSwarm$${type}::${name}`;
const step = (name: string, host: string, extra: object = {}) => ({
    urn: urn("command:remote:Command", name),
    type: "command:remote:Command",
    inputs: { connection: secret({ host, port: 22, user: "root", privateKey: "k" }), create: "x" },
    ...extra,
});

describe("host-gone", () => {
    const resources = [
        { urn: urn("consul-swarm:host:Host", "consul02"), type: "consul-swarm:host:Host" },
        step("consul02-facts", "10.0.0.3"),
        step("consul02-consul-service", "10.0.0.3", { dependencies: [urn("command:remote:Command", "consul02-facts")] }),
        { urn: urn("command:remote:CopyToRemote", "consul02-consul-upload"), type: "command:remote:CopyToRemote", inputs: { connection: secret({ host: "10.0.0.3" }) } },
        // on the manager, on consul02's behalf: stays, and its delete removes the node
        step("swarm-member-consul02", "10.0.0.1", { dependencies: [urn("command:remote:Command", "consul02-facts")] }),
        step("consul-verify", "10.0.0.1", {
            dependencies: [urn("command:remote:Command", "consul02-consul-service"), urn("command:remote:Command", "consul01-consul-service")],
            propertyDependencies: { create: [urn("command:remote:Command", "consul02-consul-service")] },
            deletedWith: urn("command:remote:Command", "consul02-facts"),
        }),
        step("consul03-facts", "10.0.0.30"),
    ];

    it("takes the steps that run on the host's address, and only those", () => {
        assert.deepEqual(stepsOn(resources, "10.0.0.3").map((u) => u.split("::").pop()).sort(), ["consul02-consul-service", "consul02-consul-upload", "consul02-facts"]);
        assert.deepEqual(stepsOn(resources, "10.0.0.9"), []);
    });

    it("leaves no reference to a step taken out in what stays", () => {
        const gone = new Set(stepsOn(resources, "10.0.0.3"));
        const after = withoutResources({ version: 3, deployment: { resources } }, gone).deployment.resources ?? [];
        assert.deepEqual(after.map((r) => r.urn.split("::").pop()), ["consul02", "swarm-member-consul02", "consul-verify", "consul03-facts"]);
        const verify = after.find((r) => r.urn.endsWith("::consul-verify"))!;
        assert.deepEqual(verify.dependencies, [urn("command:remote:Command", "consul01-consul-service")]);
        assert.deepEqual(verify.propertyDependencies, { create: [] });
        assert.equal(verify.deletedWith, undefined);
        assert.deepEqual(after.find((r) => r.urn.endsWith("::swarm-member-consul02"))!.dependencies, []);
    });
});
