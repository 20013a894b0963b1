// consul-swarm: plain Linux hosts → a Consul cluster with Docker Swarm on top.
// This file only reads and validates config, composes the components and exports outputs.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { ConfigError, resolveInstall, validateConfig } from "./components/config";
import { buildStack } from "./components/stack";

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
    hasPrivateKey: sshPrivateKey !== undefined,
});
for (const w of result.warnings) {
    pulumi.log.warn(w);
}
if (!result.settings) {
    throw new ConfigError(result.errors);
}
const settings = result.settings;
const install = resolveInstall(settings.consul.install, process.env, fs.existsSync);

const outputs = buildStack({ settings, install, sshPrivateKey });

export const datacenter = outputs.datacenter;
export const consulServers = outputs.consulServers;
export const consulHttpAddr = outputs.consulHttpAddr;
export const consulUiUrl = outputs.consulUiUrl;
export const consulHttpsAddr = outputs.consulHttpsAddr ?? null;
export const consulCaCert = outputs.consulCaCert ?? null;
export const consulLeader = outputs.consulLeader;
export const consulMembers = outputs.consulMembers;
export const dockerHosts = outputs.dockerHosts;
export const swarmManager = outputs.swarmManager ?? null;
export const swarmNodes = outputs.swarmNodes ?? null;
export const gossipKey = outputs.gossipKey;
export const aclBootstrapToken = outputs.aclBootstrapToken ?? null;
export const dockerTls = outputs.dockerTls ?? null;
export const labSshPrivateKey = outputs.labSshPrivateKey ?? null;
