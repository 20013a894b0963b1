// The pack as a whole: every rule is well formed, and the config fixtures only tune rules that exist.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { allPolicies } from "../rules";

const root = path.resolve(__dirname, "..");
const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

describe("the policy pack", () => {
    const policies = allPolicies();

    it("has uniquely named rules, each with a full-sentence description and an enforcement level", () => {
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
        for (const p of policies) {
            assert.match(p.name, /^[a-z0-9-]+$/, p.name);
            assert.match(p.description, /^[A-Z].{40,}\.$/s, `${p.name}: the description is a full sentence`);
            assert.ok(LEVELS.includes(p.enforcementLevel ?? ""), `${p.name}: enforcement level`);
        }
    });

    it("is mandatory except for the dev-stack server count, the readable join tokens and a certificate ending soon", () => {
        const advisory = policies.filter((p) => p.enforcementLevel !== "mandatory").map((p) => p.name);
        assert.deepEqual(advisory, ["consul-server-quorum-dev", "swarm-join-tokens-readable", "certificate-expiring"]);
    });

    for (const file of fs.readdirSync(path.join(root, "config")).filter((f) => f.endsWith(".json"))) {
        it(`config/${file} tunes only existing rules, with valid levels and declared settings`, () => {
            const cfg = JSON.parse(fs.readFileSync(path.join(root, "config", file), "utf8")) as Record<string, unknown>;
            for (const [name, value] of Object.entries(cfg)) {
                const p = policies.find((x) => x.name === name);
                assert.ok(p || name === "all", `${file}: no rule named ${name}`);
                if (typeof value === "string") {
                    assert.ok(LEVELS.includes(value), `${file}: ${name}: level ${value}`);
                    continue;
                }
                const { enforcementLevel, ...settings } = value as Record<string, unknown>;
                assert.ok(enforcementLevel === undefined || LEVELS.includes(String(enforcementLevel)), `${file}: ${name}: level`);
                for (const k of Object.keys(settings)) {
                    assert.ok(p?.configSchema?.properties?.[k], `${file}: ${name} has no setting ${k}`);
                }
            }
        });
    }

    it("makes the tutorial's unprotected mode advisory (Docker without TLS, Consul without ACLs or TLS), and nothing else", () => {
        const level = (v: any) => (typeof v === "string" ? v : v.enforcementLevel);
        const expected: Record<string, string[]> = {
            "tutorial.json": ["docker-api-tls", "consul-acl", "consul-tls"],
            "lab.json": ["docker-api-tls"],
        };
        for (const [file, rules] of Object.entries(expected)) {
            const cfg = JSON.parse(fs.readFileSync(path.join(root, "config", file), "utf8"));
            assert.deepEqual(Object.keys(cfg), rules, file);
            for (const r of rules) {
                assert.equal(level(cfg[r]), "advisory", `${file}: ${r}`);
            }
        }
    });
});
