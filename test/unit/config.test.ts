import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { describe, it } from "node:test";
import { cidrContains, cidrGateway, ConfigError, managerRestartOrder, RawConfig, resolveInstall, Role, rollingOrder, validateConfig } from "../../components/config";

const tutorialHosts = [
    { name: "consulsvr", address: "192.168.116.111", roles: ["consul-server", "swarm-manager"], bootstrap: true },
    { name: "consul01", address: "192.168.116.112", roles: ["consul-server", "swarm-agent"] },
    { name: "consul02", address: "192.168.116.113", roles: ["consul-server", "swarm-agent"] },
];
const urlInstall = { url: "https://releases.example/consul_1.14.11_linux_amd64.zip", sha256: "a".repeat(64) };

function raw(over: Partial<RawConfig> = {}): RawConfig {
    return { hosts: tutorialHosts, consul: { install: urlInstall }, hasPrivateKey: true, ...over };
}

function errorsOf(r: RawConfig): string[] {
    const res = validateConfig(r);
    assert.equal(res.settings, undefined, "expected the config to be rejected");
    return res.errors;
}

function assertError(errors: string[], field: string, ...fragments: string[]) {
    const hit = errors.find((e) => e.startsWith(`${field}:`) && fragments.every((f) => e.includes(f)));
    assert.ok(hit, `no error on ${field} with ${JSON.stringify(fragments)} in:\n${errors.join("\n")}`);
}

describe("validateConfig", () => {
    it("checks the log level against Consul's levels before anything runs", () => {
        assertError(errorsOf(raw({ consul: { install: urlInstall, logLevel: "LOUD" } })), "consul.logLevel", '"LOUD"', "TRACE, DEBUG, INFO, WARN, ERROR");
        assert.equal(validateConfig(raw({ consul: { install: urlInstall, logLevel: "debug" } })).settings!.consul.logLevel, "DEBUG");
        assertError(errorsOf(raw({ consul: { install: urlInstall, dns: "yes" } })), "consul.dns");
        assert.equal(validateConfig(raw()).settings!.consul.dns, true, "DNS on by default");
        assertError(errorsOf(raw({ consul: { install: urlInstall, dns: false, dnsForwarding: true } })), "consul.dnsForwarding", "consul.dns: false");
    });
    it("accepts the tutorial's table with defaults filled in", () => {
        const res = validateConfig(raw());
        assert.deepEqual(res.errors, []);
        assert.deepEqual(res.warnings, []);
        const s = res.settings!;
        assert.equal(s.datacenter, "dc1");
        assert.equal(s.docker.tls, true, "the Docker API gets TLS unless a stack asks for plain TCP");
        assert.equal(s.docker.tcpPort, 2376);
        assert.equal(s.consul.bootstrapMode, "tutorial");
        assert.equal(s.hosts[0].ssh.user, "root");
        assert.equal(s.hosts.filter((h) => h.bootstrap).length, 1);
    });

    it("takes the tutorial's plain TCP 2375 only when asked, with a warning", () => {
        const res = validateConfig(raw({ docker: { tls: false } }));
        assert.equal(res.settings?.docker.tcpPort, 2375);
        assert.match(res.warnings.join("\n"), /^docker.tls: the Docker API listens on plain TCP 0.0.0.0:2375 without TLS/m);
        assert.deepEqual(validateConfig(raw({ docker: { tls: false, bindAddress: "127.0.0.1" } })).warnings, [], "loopback only: no warning");
    });

    it("takes one host's Docker API address over the stack's, checked like it", () => {
        const hosts = tutorialHosts.map((h, i) => (i === 1 ? { ...h, docker: { bindAddress: h.address } } : h));
        const s = validateConfig(raw({ hosts })).settings!;
        assert.equal(s.hosts[1].dockerBindAddress, "192.168.116.112");
        assert.equal(s.hosts[0].dockerBindAddress, undefined, "the others keep docker.bindAddress");
        const bad = tutorialHosts.map((h, i) => (i === 1 ? { ...h, docker: { bindAddress: "eth0", port: 1 } } : h));
        const errors = errorsOf(raw({ hosts: bad }));
        assertError(errors, "hosts[1].docker.bindAddress", '"eth0" is not an IP address');
        assertError(errors, "hosts[1].docker.port", "unknown setting", "bindAddress");
    });

    it("rejects a config with no hosts", () => {
        assertError(errorsOf(raw({ hosts: [] })), "hosts", "no hosts given", "add at least one");
        assertError(errorsOf(raw({ hosts: undefined })), "hosts", "no hosts given");
    });

    it("rejects duplicate names and addresses, naming both entries", () => {
        const hosts = [...tutorialHosts, { name: "consul01", address: "192.168.116.111", roles: ["consul-client"] }];
        const errors = errorsOf(raw({ hosts }));
        assertError(errors, "hosts[3].name", 'duplicate name "consul01"', "hosts[1]");
        assertError(errors, "hosts[3].address", 'duplicate address "192.168.116.111"', "hosts[0]");
    });

    it("rejects an address that is neither an IP nor a hostname", () => {
        const hosts = [{ ...tutorialHosts[0], address: "999.1.1.1" }, tutorialHosts[1], { ...tutorialHosts[2], address: "bad host!" }];
        const errors = errorsOf(raw({ hosts }));
        assertError(errors, "hosts[0].address", "neither an IP address nor a hostname");
        assertError(errors, "hosts[2].address", "neither an IP address nor a hostname");
    });

    it("takes IPv4 addresses only: a hostname and an IPv6 address are each one clear problem, naming the fix", () => {
        const hosts = [{ ...tutorialHosts[0], address: "consul.example.org" }, tutorialHosts[1], { ...tutorialHosts[2], address: "2001:db8::13" }];
        const errors = errorsOf(raw({ hosts }));
        assert.equal(errors.length, 2, errors.join("\n"));
        assertError(errors, "hosts[0].address", '"consul.example.org" is a hostname, but the stack binds Consul to this address and certifies it as an IP', "getent hosts consul.example.org");
        assertError(errors, "hosts[2].address", "2001:db8::13 is an IPv6 address, which the stack does not support yet", "IPv4");
    });

    it("rejects zero or two bootstrap servers in tutorial mode", () => {
        const none = tutorialHosts.map((h) => ({ ...h, bootstrap: false }));
        assertError(errorsOf(raw({ hosts: none })), "hosts", "no Consul server has bootstrap: true", "exactly one");
        const two = tutorialHosts.map((h, i) => ({ ...h, bootstrap: i < 2 }));
        assertError(errorsOf(raw({ hosts: two })), "hosts", "2 Consul servers have bootstrap: true (consulsvr, consul01)", "exactly one");
    });

    it("rejects bootstrap: true in expect mode, and accepts expect mode without it", () => {
        assertError(errorsOf(raw({ consul: { install: urlInstall, bootstrapMode: "expect" } })), "hosts", "while consul.bootstrapMode is expect");
        const none = tutorialHosts.map((h) => ({ ...h, bootstrap: false }));
        assert.equal(validateConfig(raw({ hosts: none, consul: { install: urlInstall, bootstrapMode: "expect" } })).settings?.consul.bootstrapMode, "expect");
    });

    it("warns (does not fail) on an even or < 3 server count, naming the quorum", () => {
        const one = validateConfig(raw({ hosts: [tutorialHosts[0]] }));
        assert.ok(one.settings);
        assert.match(one.warnings.join("\n"), /1 Consul server\(s\): quorum is 1, so the cluster survives 0 server failure\(s\)/);
        const four = [...tutorialHosts, { name: "consul03", address: "192.168.116.114", roles: ["consul-server"] }];
        const res = validateConfig(raw({ hosts: four }));
        assert.ok(res.settings);
        assert.match(res.warnings.join("\n"), /4 Consul server\(s\): quorum is 3, so the cluster survives 1 server failure/);
    });

    it("rejects a swarm agent with no manager", () => {
        const hosts = tutorialHosts.map((h) => ({ ...h, roles: h.roles.filter((r) => r !== "swarm-manager") }));
        assertError(errorsOf(raw({ hosts })), "hosts", "swarm agent(s) consul01, consul02 but no swarm-manager", "swarm-manager role");
    });

    it("rejects a missing SSH key outside the lab, and accepts the lab without one", () => {
        assertError(errorsOf(raw({ hasPrivateKey: false })), "sshPrivateKey", "no SSH private key", "pulumi config set --secret sshPrivateKey");
        const labHosts = tutorialHosts.map((h, i) => ({ ...h, address: `10.213.0.${111 + i}` }));
        const lab = validateConfig(raw({ hasPrivateKey: false, hosts: labHosts, consul: {}, lab: { subnet: "10.213.0.0/24" } }));
        assert.deepEqual(lab.errors, []);
        assert.deepEqual(lab.settings?.consul.install, { kind: "toolchain" });
    });

    it("bounds the wait for SSH: 120 s by default, settable per stack and per host, 5 to 3600", () => {
        const s = validateConfig(raw({ ssh: { waitSeconds: 30 } })).settings!;
        assert.equal(s.ssh.waitSeconds, 30);
        assert.equal(s.hosts[0].ssh.waitSeconds, 30, "a host inherits the stack's");
        assert.equal(validateConfig(raw()).settings!.hosts[0].ssh.waitSeconds, 120);
        assertError(errorsOf(raw({ ssh: { waitSeconds: 1 } })), "ssh.waitSeconds");
    });
    it("rejects a key put under ssh.privateKey, pointing at sshPrivateKey", () => {
        assertError(errorsOf(raw({ ssh: { privateKey: "x" } })), "ssh.privateKey", "sshPrivateKey");
    });

    it("rejects an unknown role, naming the known ones", () => {
        const hosts = [{ ...tutorialHosts[0], roles: ["consul-server", "swarm-manager", "nomad"] }, tutorialHosts[1], tutorialHosts[2]];
        assertError(errorsOf(raw({ hosts })), "hosts[0].roles", 'unknown role "nomad"', "consul-server, consul-client, swarm-manager, swarm-agent");
    });

    it("rejects a bad Consul version and a bad or missing checksum", () => {
        assertError(errorsOf(raw({ consul: { version: "latest", install: urlInstall } })), "consul.version", '"latest" is not a pinned release version');
        assertError(errorsOf(raw({ consul: { install: { url: urlInstall.url, sha256: "abc" } } })), "consul.install.sha256", "not a SHA-256");
        assertError(errorsOf(raw({ consul: { install: { url: urlInstall.url } } })), "consul.install.sha256", "no checksum");
        assertError(errorsOf(raw({ consul: { install: { url: "ftp:/x", sha256: "a".repeat(64) } } })), "consul.install.url", "http(s) URL");
        assertError(errorsOf(raw({ consul: { install: { ...urlInstall, binarySha256: "xyz" } } })), "consul.install.binarySha256", "not a SHA-256");
        assert.deepEqual(validateConfig(raw({ consul: { install: { ...urlInstall, binarySha256: "D".repeat(64) } } })).settings?.consul.install, { kind: "url", ...urlInstall, binarySha256: "d".repeat(64) });
        assertError(errorsOf(raw({ consul: {} })), "consul.install", "no install source");
    });

    it("lists every problem at once", () => {
        const errors = errorsOf({ hosts: [{ name: "a", address: "!", roles: ["x"] }], consul: { version: "1" }, hasPrivateKey: false });
        assert.ok(errors.length >= 5, errors.join("\n"));
        const e = new ConfigError(errors);
        assert.ok(pulumi.RunError.isInstance(e), "Pulumi prints a RunError without the program's stack trace");
        assert.match(e.message, /nothing was changed on any host/);
    });

    it("keeps lab hosts inside the lab subnet", () => {
        const errors = errorsOf(raw({ hasPrivateKey: false, lab: { subnet: "10.213.0.0/24" } }));
        assertError(errors, "hosts[0].address", "outside the lab subnet 10.213.0.0/24");
        assertError(errorsOf(raw({ lab: { subnet: "10.213.0.0" } })), "lab.subnet", "not an IPv4 CIDR");
    });

    it("reads a federation: the primary's stack, with TLS and ACLs on; each problem named", () => {
        const ok = validateConfig(raw({ datacenter: "dc2", federation: { primaryStack: "org/consul-swarm/dc1" } }));
        assert.deepEqual(ok.errors, []);
        assert.deepEqual(ok.settings?.federation, { primaryStack: "org/consul-swarm/dc1" });
        assert.equal(validateConfig(raw()).settings?.federation, undefined, "no federation unless asked");
        assertError(errorsOf(raw({ federation: {} })), "federation.primaryStack", "no primary stack", "name the primary datacenter's stack");
        assertError(errorsOf(raw({ federation: { primaryStack: "a b" } })), "federation.primaryStack", "is not a stack name");
        assertError(errorsOf(raw({ federation: { primaryStack: "dc1", primary: "dc1" } })), "federation.primary", "unknown setting", "use one of primaryStack");
        const plain = errorsOf(raw({ federation: { primaryStack: "dc1" }, consul: { install: urlInstall, tls: false, acl: false } }));
        assertError(plain, "consul.tls", "a federated datacenter needs TLS", "remove consul.tls: false");
        assertError(plain, "consul.acl", "replicates the primary's ACLs");
        assertError(errorsOf(raw({ consul: { install: urlInstall, options: { primary_datacenter: "dc9" } } })), "consul.options.primary_datacenter", "set by the stack itself");
    });

    it("reads lab routes to other labs' subnets", () => {
        const labHosts = tutorialHosts.map((h) => ({ ...h, address: h.address.replace(/^\d+\.\d+\.\d+/, "10.213.0") }));
        const ok = validateConfig(raw({ hasPrivateKey: false, hosts: labHosts, lab: { subnet: "10.213.0.0/24", routeTo: ["10.214.0.0/24"] } }));
        assert.deepEqual(ok.errors, []);
        assert.deepEqual(ok.settings?.lab?.routeTo, ["10.214.0.0/24"]);
        const errors = errorsOf(raw({ hasPrivateKey: false, hosts: labHosts, lab: { subnet: "10.213.0.0/24", routeTo: ["10.213.0.0/24", "nope"] } }));
        assertError(errors, "lab.routeTo[0]", "this lab's own subnet");
        assertError(errors, "lab.routeTo[1]", "not an IPv4 CIDR");
        assertError(errorsOf(raw({ hasPrivateKey: false, hosts: labHosts, lab: { subnet: "10.213.0.0/24", routeTo: "10.214.0.0/24" } })), "lab.routeTo", "expected a list");
    });

    it("refuses consul.options keys that the stack owns, each one problem naming the setting to use instead", () => {
        assertError(errorsOf(raw({ consul: { install: urlInstall, options: { bootstrap: true } } })), "consul.options.bootstrap", "set by the stack itself", "consul.bootstrapMode");
        const owned = {
            node_name: "hosts[].name",
            node_id: "machine",
            datacenter: "use datacenter",
            domain: "consul domain",
            data_dir: "own directory",
            ports: "standard ports",
            addresses: "on its address",
            client_addr: "on its address",
            tls: "consul.tls",
            verify_incoming: "consul.tls",
            acl: "consul.acl",
            encrypt: "gossip key",
            bootstrap_expect: "bootstrapMode",
            retry_join: "from hosts",
            ui_config: "consul.ui",
        };
        const errors = errorsOf(raw({ consul: { install: urlInstall, options: Object.fromEntries(Object.keys(owned).map((k) => [k, "x"])) } }));
        assert.equal(errors.length, Object.keys(owned).length, errors.join("\n"));
        for (const [key, instead] of Object.entries(owned)) {
            assertError(errors, `consul.options.${key}`, "is set by the stack itself", instead);
        }
        assert.ok(validateConfig(raw({ consul: { install: urlInstall, options: { telemetry: { prometheus_retention_time: "30s" }, limits: { http_max_conns_per_client: 400 } } } })).settings, "the rest is merged");
        const loopback = validateConfig(raw({ consul: { install: urlInstall, httpOnLoopback: true } })).settings!;
        assert.deepEqual(loopback.consul.options, { addresses: { http: "127.0.0.1" } }, "plain HTTP on loopback through its own setting");
        assertError(errorsOf(raw({ consul: { install: urlInstall, httpOnLoopback: true, tls: false } })), "consul.httpOnLoopback", "needs consul.tls");
    });
});

describe("helpers", () => {
    it("orders rolling restarts with the bootstrap server last", () => {
        const s = validateConfig(raw()).settings!;
        assert.deepEqual(rollingOrder(s.hosts).map((h) => h.name), ["consul01", "consul02", "consulsvr"]);
    });
    it("gives swarm managers' dockerd restarts their turns, the first manager last, workers none", () => {
        const h = (name: string, ...roles: Role[]) => ({ name, roles });
        const order = managerRestartOrder([h("m1", "swarm-manager"), h("w1", "swarm-agent"), h("m2", "swarm-manager", "swarm-agent"), h("w2", "swarm-agent"), h("m3", "swarm-manager")]);
        assert.deepEqual(order.map((x) => x.name), ["m2", "m3", "m1"]);
    });
    it("does CIDR arithmetic", () => {
        assert.equal(cidrGateway("10.213.0.0/24"), "10.213.0.1");
        assert.ok(cidrContains("10.213.0.0/24", "10.213.0.111"));
        assert.ok(!cidrContains("10.213.0.0/24", "10.213.1.1"));
    });
    it("resolves the toolchain install source from CONSUL_SWARM_TOOLBIN", () => {
        const built = new Set(["/tb/consul-1.14.11", "/tb/consul-1.14.8"]);
        const has = (f: string) => built.has(f);
        assert.deepEqual(resolveInstall({ kind: "toolchain" }, { CONSUL_SWARM_TOOLBIN: "/tb" }, has, "1.14.11"), { kind: "file", file: "/tb/consul-1.14.11" });
        assert.deepEqual(resolveInstall({ kind: "toolchain" }, { CONSUL_SWARM_TOOLBIN: "/tb" }, has, "1.14.8"), { kind: "file", file: "/tb/consul-1.14.8" }, "consul.version picks the toolchain's binary");
        assert.throws(() => resolveInstall({ kind: "toolchain" }, { CONSUL_SWARM_TOOLBIN: "/tb" }, has, "1.14.9"), /consul.version: the toolchain has no Consul 1.14.9 .*toolchain\/versions.json: consul, consulAlso/);
        assert.throws(() => resolveInstall({ kind: "toolchain" }, {}, () => true, "1.14.11"), /CONSUL_SWARM_TOOLBIN is not set; run the stack through `npm run pulumi/);
        assert.throws(() => resolveInstall({ kind: "file", file: "/nope" }, {}, () => false, "1.14.11"), /consul.install.file: \/nope does not exist/);
    });
});

describe("the SSH wait as dials", () => {
    it("counts the dials whose retry waits (100 ms, x1.5, at most 5 s) fit in the wait", async () => {
        const { dialsWithin } = await import("../../components/host/host");
        assert.equal(dialsWithin(0.05), 1, "no time to wait: one dial");
        assert.equal(dialsWithin(0.1), 2);
        // 10 growing waits add up to about 11.3 s, then 5 s each.
        assert.equal(dialsWithin(120), 32);
        assert.ok(dialsWithin(600) > dialsWithin(120));
    });
});
