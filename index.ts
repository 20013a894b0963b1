// consul-swarm: plain Linux hosts → a Consul cluster with Docker Swarm on top.
// This file only reads and validates config, makes the lab when asked and one ConsulSwarm, and
// exports its outputs.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, resolveInstall, validateConfig } from "./components/config";
import { ConsulSwarm, consulSwarmArgs, federationFrom } from "./components/consulSwarm";
import { appliedTlsStage, consulTlsMove, tlsStageNotice } from "./components/consul/tlsStages";
import { aclStageNotice, appliedAclStage, consulAclMove } from "./components/consul/aclStages";
import { labFor } from "./lab/hosts/labHosts";

const config = new pulumi.Config("consul-swarm");
const sshPrivateKey = config.getSecret("sshPrivateKey");
const result = validateConfig({
    datacenter: config.get("datacenter"),
    consul: config.getObject("consul"),
    docker: config.getObject("docker"),
    swarm: config.getObject("swarm"),
    hosts: config.getObject("hosts"),
    ssh: config.getObject("ssh"),
    lab: config.getObject("lab"),
    federation: config.getObject("federation"),
    certificates: config.getObject("certificates"),
    hasPrivateKey: sshPrivateKey !== undefined,
});
for (const w of result.warnings) {
    pulumi.log.warn(w);
}
if (!result.settings) {
    throw new ConfigError(result.errors);
}
const settings = result.settings;
const install = resolveInstall(settings.consul.install, process.env, fs.existsSync, settings.consul.version);

const lab = labFor(settings);
// The stack's own outputs from its last up, read at preview as at up: which certificates are due,
// and the Consul TLS and ACL stages the agents are at (consul.tls or consul.acl switched on a
// running cluster goes in stages, one per up). Read before any resource is made, since the stage decides which exist.
const applied = new pulumi.StackReference("applied-outputs", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });

async function appliedOutputs(names: string[]): Promise<Record<string, unknown>> {
    const details = await Promise.all(names.map((n) => applied.getOutputDetails(n)));
    return Object.fromEntries(names.map((n, i) => [n, details[i].value ?? details[i].secretValue]));
}

export = appliedOutputs(["consulTlsStage", "consulHttpsAddr", "consulAclStage", "aclBootstrapToken", "consulPrimaryDatacenter", "datacenter"]).then((outputs) => {
    const consulTls = consulTlsMove(settings.consul.tls, appliedTlsStage(outputs));
    const consulAcl = consulAclMove(settings.consul.acl, appliedAclStage(outputs));
    for (const notice of [tlsStageNotice(consulTls.applied, consulTls.next, settings.consul.tls), aclStageNotice(consulAcl, settings.consul.acl)]) {
        if (notice !== undefined) {
            pulumi.log.warn(notice);
        }
    }
    const cluster = new ConsulSwarm("consul-swarm", {
        ...consulSwarmArgs(settings, install, sshPrivateKey, lab),
        federation: settings.federation ? federationFrom(settings.federation.primaryStack) : undefined,
        appliedCertificates: applied.getOutput("certificateRenewal"),
        consulTls,
        consulAcl,
        appliedManagementToken: typeof outputs.aclBootstrapToken === "string" ? pulumi.secret(outputs.aclBootstrapToken) : undefined,
        // Beside the project's other local state (scripts/env.sh sets CONSUL_SWARM_STATE).
        snapshotDir: path.resolve(process.env.CONSUL_SWARM_STATE ?? ".state", "snapshots", pulumi.getStack()),
    });
    // What other stacks read (README, Outputs); null where a part is off, so a consumer sees the key.
    const published = [
        "datacenter", "consulServers", "consulHttpAddr", "consulUiUrl", "consulHttpsAddr", "consulCaCert", "consulCaKey", "consulTlsStage", "consulAclStage",
        "consulPrimaryDatacenter", "consulDatacenters", "consulLeader", "consulMembers", "dockerHosts", "swarmManager", "swarmNodes",
        "gossipKey", "aclBootstrapToken", "dockerTls", "certificateExpiry", "certificateRenewal",
    ] as const;
    return {
        ...Object.fromEntries(published.map((name) => [name, cluster[name] ?? null])),
        consulVersion: settings.consul.version,
        consulUpgradeSnapshot: cluster.consulUpgradeSnapshot.apply((f) => f ?? null),
        labSshPrivateKey: lab ? pulumi.secret(lab.privateKey) : null,
    };
});
