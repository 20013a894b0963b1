// One pinned list drives everything: this fails the moment package.json, the installed npm
// packages or the toolchain's go.mod disagree with toolchain/versions.json.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.resolve(__dirname, "..", "..");
const versions = JSON.parse(fs.readFileSync(path.join(repo, "toolchain", "versions.json"), "utf8"));
const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"));
const installed = (name: string) => JSON.parse(fs.readFileSync(path.join(repo, "node_modules", name, "package.json"), "utf8"));

describe("pinned versions", () => {
    it("package.json pins @pulumi/pulumi at the CLI's version", () => {
        assert.equal(pkg.dependencies["@pulumi/pulumi"], versions.pulumi);
        assert.equal(installed("@pulumi/pulumi").version, versions.pulumi);
    });
    for (const name of ["command", "random", "docker"]) {
        it(`@pulumi/${name} asks the engine for the plugin version the toolchain builds`, () => {
            assert.equal(pkg.dependencies[`@pulumi/${name}`], versions.plugins[name]);
            const p = installed(`@pulumi/${name}`);
            assert.equal(p.pulumi.name, name);
            assert.equal(p.pulumi.version, versions.plugins[name], "the plugin version the engine will look for");
        });
    }
    it("the CLI's go.mod requires pkg and sdk at the pinned version", () => {
        const gomod = fs.readFileSync(path.join(repo, "toolchain", "go", "pulumi", "go.mod"), "utf8");
        assert.match(gomod, new RegExp(`github.com/pulumi/pulumi/pkg/v3 v${versions.pulumi}\\b`));
        assert.match(gomod, new RegExp(`github.com/pulumi/pulumi/sdk/v3 v${versions.pulumi}\\b`));
    });
    it("the language host and the providers build against the same SDK", () => {
        for (const mod of ["langhost", "providers"]) {
            const gomod = fs.readFileSync(path.join(repo, "toolchain", "go", mod, "go.mod"), "utf8");
            assert.match(gomod, new RegExp(`github.com/pulumi/pulumi/sdk/v3 v${versions.pulumi}\\b`), mod);
        }
    });
    it("Consul's go.mod requires the pinned MPL-2.0 release", () => {
        const gomod = fs.readFileSync(path.join(repo, "toolchain", "go", "consul", "go.mod"), "utf8");
        assert.match(gomod, new RegExp(`github.com/hashicorp/consul v${versions.consul}\\b`));
        const [major, minor] = versions.consul.split(".").map(Number);
        assert.ok(major === 1 && minor <= 16, "Consul after 1.16 is not open source");
        assert.doesNotMatch(gomod, /envoyextensions|troubleshoot/, "no module under a non-open-source licence");
    });
    it("the policy pack pins @pulumi/policy and @pulumi/pulumi from the same list", { skip: !fs.existsSync(path.join(repo, "policy", "package.json")) && "no policy pack yet" }, () => {
        const p = JSON.parse(fs.readFileSync(path.join(repo, "policy", "package.json"), "utf8"));
        assert.equal(p.dependencies["@pulumi/policy"], versions.policy);
        assert.equal(p.dependencies["@pulumi/pulumi"], versions.pulumi);
    });
});
