// consul-swarm: plain Linux hosts → a Consul cluster with Docker Swarm on top.
// This file only reads and validates config, makes the lab when asked and one ConsulSwarm, and
// exports its outputs.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, resolveInstall, validateConfig } from "./components/config";
import { ConsulSwarm, consulSwarmArgs, federationFrom } from "./components/consulSwarm";
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
// The stack's own outputs from its last up, read at preview as at up: which certificates are due.
const applied = new pulumi.StackReference("applied-outputs", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
const cluster = new ConsulSwarm("consul-swarm", {
    ...consulSwarmArgs(settings, install, sshPrivateKey, lab),
    federation: settings.federation ? federationFrom(settings.federation.primaryStack) : undefined,
    appliedCertificates: applied.getOutput("certificateRenewal"),
    // Beside the project's other local state (scripts/env.sh sets CONSUL_SWARM_STATE).
    snapshotDir: path.resolve(process.env.CONSUL_SWARM_STATE ?? ".state", "snapshots", pulumi.getStack()),
});

export const datacenter = cluster.datacenter;
export const consulServers = cluster.consulServers;
export const consulHttpAddr = cluster.consulHttpAddr;
export const consulUiUrl = cluster.consulUiUrl;
export const consulHttpsAddr = cluster.consulHttpsAddr ?? null;
export const consulCaCert = cluster.consulCaCert ?? null;
export const consulCaKey = cluster.consulCaKey ?? null;
export const consulVersion = settings.consul.version;
export const consulPrimaryDatacenter = cluster.consulPrimaryDatacenter;
export const consulDatacenters = cluster.consulDatacenters;
export const consulLeader = cluster.consulLeader;
export const consulMembers = cluster.consulMembers;
export const dockerHosts = cluster.dockerHosts;
export const swarmManager = cluster.swarmManager ?? null;
export const swarmNodes = cluster.swarmNodes ?? null;
export const gossipKey = cluster.gossipKey;
export const aclBootstrapToken = cluster.aclBootstrapToken ?? null;
export const dockerTls = cluster.dockerTls ?? null;
export const certificateExpiry = cluster.certificateExpiry;
export const certificateRenewal = cluster.certificateRenewal;
export const consulUpgradeSnapshot = cluster.consulUpgradeSnapshot.apply((f) => f ?? null);
export const labSshPrivateKey = lab ? pulumi.secret(lab.privateKey) : null;
