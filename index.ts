// consul-swarm: plain Linux hosts → a Consul cluster with Docker Swarm on top.
// This file only reads and validates config, composes the components and exports outputs.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as fs from "fs";
import { ConfigError, HostSpec, resolveInstall, Role, rollingOrder, validateConfig } from "./components/config";
import { ConsulClient, ConsulServer } from "./components/consulAgent";
import { ConsulCluster } from "./components/consulCluster";
import { DockerDaemon } from "./components/dockerDaemon";
import { Host } from "./components/host";
import { LabHosts } from "./components/labHosts";
import { Swarm } from "./components/swarm";

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

const lab = settings.lab
    ? new LabHosts("lab", { hosts: settings.hosts, subnet: settings.lab.subnet, networkName: settings.lab.networkName })
    : undefined;
const privateKey = lab ? lab.privateKey : sshPrivateKey!;

const hosts = new Map(
    settings.hosts.map((h) => [
        h.name,
        new Host(
            h.name,
            { address: h.address, port: h.ssh.port, user: h.ssh.user, privateKey },
            { dependsOn: lab ? [lab.containers[h.name]] : [] },
        ),
    ]),
);
const daemons = new Map(
    settings.hosts
        .filter((h) => h.roles.includes("swarm-manager") || h.roles.includes("swarm-agent"))
        .map((h) => [
            h.name,
            new DockerDaemon(`${h.name}-docker`, {
                host: hosts.get(h.name)!,
                tcpPort: settings.docker.tcpPort,
                bindAddress: settings.docker.bindAddress,
            }),
        ]),
);

const gossipKey = new random.RandomBytes("gossip-key", { length: 32 }).base64;
const withRole = (role: Role) => settings.hosts.filter((h) => h.roles.includes(role));
const consulAgents = [...withRole("consul-server"), ...withRole("consul-client")];
const agentArgs = (h: HostSpec) => ({
    host: hosts.get(h.name)!,
    datacenter: settings.datacenter,
    install,
    retryJoin: consulAgents.filter((a) => a !== h).map((a) => a.address),
    gossipKey,
    ui: settings.consul.ui,
    logLevel: settings.consul.logLevel,
    options: settings.consul.options,
});

// Servers are chained so that a change restarts them one at a time, the bootstrap server last.
const servers: ConsulServer[] = [];
for (const h of rollingOrder(settings.hosts)) {
    const previous = servers[servers.length - 1];
    servers.push(
        new ConsulServer(`${h.name}-consul`, {
            ...agentArgs(h),
            bootstrap: settings.consul.bootstrapMode === "tutorial" ? h.bootstrap : undefined,
            bootstrapExpect: settings.consul.bootstrapMode === "expect" ? withRole("consul-server").length : undefined,
            restartAfter: previous ? [previous.service] : [],
        }),
    );
}
const clients = withRole("consul-client").map(
    (h) => new ConsulClient(`${h.name}-consul`, { ...agentArgs(h), restartAfter: servers.map((s) => s.service) }),
);

const cluster = new ConsulCluster("consul", { servers, clients });
const consulHttpAddr = pulumi.interpolate`http://${cluster.seed.address}:8500`;

const swarmMember = (h: HostSpec) => ({ host: hosts.get(h.name)!, daemon: daemons.get(h.name)! });
const swarm =
    withRole("swarm-manager").length > 0
        ? new Swarm("swarm", {
              managers: withRole("swarm-manager").map(swarmMember),
              agents: withRole("swarm-agent")
                  .filter((h) => !h.roles.includes("swarm-manager"))
                  .map(swarmMember),
              consulHttpAddr,
              consulReady: [cluster.verify],
          })
        : undefined;

export const datacenter = settings.datacenter;
export const consulServers = Object.fromEntries(servers.map((s) => [s.nodeName, s.address]));
export { consulHttpAddr };
export const consulUiUrl = pulumi.interpolate`${consulHttpAddr}/ui/`;
export const consulLeader = cluster.leader;
export const consulMembers = cluster.members;
export const dockerHosts = Object.fromEntries([...daemons].map(([name, d]) => [name, d.dockerHost]));
export const swarmManager = swarm?.managerDockerHost;
export const swarmNodes = swarm?.nodes;
export const gossipKeyOut = pulumi.secret(gossipKey);
export { gossipKeyOut as gossipKey };
export const labSshPrivateKey = lab ? pulumi.secret(lab.privateKey) : undefined;
