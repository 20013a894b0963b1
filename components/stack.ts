import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ConsulInstall, HostSpec, Role, rollingOrder, StackSettings } from "./config";
import { ConsulClient, ConsulServer } from "./consulAgent";
import { ConsulCluster } from "./consulCluster";
import { DockerDaemon } from "./dockerDaemon";
import { CertificateAuthority } from "./certificateAuthority";
import { Host } from "./host";
import { LabHosts } from "./labHosts";
import { CONSUL_HTTPS_PORT, SWARM_KV_PREFIX, uuidFromHex } from "./render";
import { Swarm } from "./swarm";

export interface StackInputs {
    settings: StackSettings;
    /** The resolved Consul install source (see resolveInstall). */
    install: ConsulInstall & { kind: "url" | "file" };
    /** The key for real hosts; the lab makes its own. */
    sshPrivateKey?: pulumi.Input<string>;
}

/** Composes the whole graph for validated settings and returns the stack's outputs. */
export function buildStack({ settings, install, sshPrivateKey }: StackInputs) {
    const lab = settings.lab
        ? new LabHosts("lab", { hosts: settings.hosts, subnet: settings.lab.subnet, networkName: settings.lab.networkName })
        : undefined;
    const privateKey = lab ? lab.privateKey : sshPrivateKey;
    if (privateKey === undefined) {
        throw new Error("buildStack: no SSH private key and no lab");
    }

    const hosts = new Map(
        settings.hosts.map((h) => [
            h.name,
            new Host(
                h.name,
                {
                    address: h.address,
                    port: h.ssh.port,
                    user: h.ssh.user,
                    waitSeconds: h.ssh.waitSeconds,
                    privateKey,
                    // A lab host replaced by hand (or by a new image) is a new machine: set it up again.
                    machineId: lab ? lab.containers[h.name].id : undefined,
                },
                { dependsOn: lab ? [lab.containers[h.name]] : [] },
            ),
        ]),
    );
    const dockerHostSpecs = settings.hosts.filter((h) => h.roles.includes("swarm-manager") || h.roles.includes("swarm-agent"));
    const dockerTls =
        settings.docker.tls && dockerHostSpecs.length > 0
            ? new CertificateAuthority("docker-tls", {
                  commonName: "consul-swarm Docker CA",
                  leaves: {
                      client: { commonName: "consul-swarm client", extendedKeyUsage: "clientAuth", subjectAltName: "" },
                      ...Object.fromEntries(
                          dockerHostSpecs.map((h) => [
                              `server-${h.name}`,
                              // clientAuth too: the host checks its own API with its server certificate.
                              {
                                  commonName: h.name,
                                  extendedKeyUsage: "serverAuth,clientAuth",
                                  subjectAltName: `IP:${h.address},DNS:${h.name},IP:127.0.0.1,DNS:localhost`,
                              },
                          ]),
                      ),
                  },
              })
            : undefined;
    const daemons = new Map(
        dockerHostSpecs.map((h) => [
            h.name,
            new DockerDaemon(`${h.name}-docker`, {
                host: hosts.get(h.name)!,
                tcpPort: settings.docker.tcpPort,
                bindAddress: settings.docker.bindAddress,
                tls: dockerTls ? { caCert: dockerTls.caCert, server: dockerTls.leaves[`server-${h.name}`] } : undefined,
            }),
        ]),
    );

    const gossipKey = new random.RandomBytes("gossip-key", { length: 32 }).base64;
    // The ACL management token: made once per stack, a secret end to end.
    const aclToken = settings.consul.acl
        ? pulumi.secret(new random.RandomBytes("consul-acl-token", { length: 16 }).hex.apply(uuidFromHex))
        : undefined;
    // The agents' own token: least privilege (register their node, read services), never the management one.
    const agentToken = settings.consul.acl
        ? pulumi.secret(new random.RandomBytes("consul-agent-token", { length: 16 }).hex.apply(uuidFromHex))
        : undefined;
    const acl = aclToken && agentToken ? { managementToken: aclToken, agentToken } : undefined;
    const hasSwarm = settings.hosts.some((h) => h.roles.includes("swarm-manager"));
    // The swarm hosts' token: read and write the swarm's KV prefix, nothing else.
    const swarmToken =
        settings.consul.acl && hasSwarm
            ? pulumi.secret(new random.RandomBytes("consul-swarm-token", { length: 16 }).hex.apply(uuidFromHex))
            : undefined;
    const withRole = (role: Role) => settings.hosts.filter((h) => h.roles.includes(role));
    const consulAgents = [...withRole("consul-server"), ...withRole("consul-client")];
    // Servers carry server.<dc>.consul (verify_server_hostname checks it), clients client.<dc>.consul.
    const consulCa = settings.consul.tls
        ? new CertificateAuthority("consul-tls", {
              commonName: "consul-swarm Consul CA",
              leaves: Object.fromEntries(
                  consulAgents.map((h) => {
                      const cn = `${h.roles.includes("consul-server") ? "server" : "client"}.${settings.datacenter}.consul`;
                      return [
                          `agent-${h.name}`,
                          { commonName: cn, extendedKeyUsage: "serverAuth,clientAuth", subjectAltName: `DNS:${cn},DNS:localhost,IP:${h.address},IP:127.0.0.1` },
                      ];
                  }),
              ),
          })
        : undefined;
    const agentArgs = (h: HostSpec) => ({
        host: hosts.get(h.name)!,
        datacenter: settings.datacenter,
        install,
        version: settings.consul.version,
        gossipKey,
        acl,
        tls: consulCa ? { caCert: consulCa.caCert, pair: consulCa.leaves[`agent-${h.name}`] } : undefined,
        ui: settings.consul.ui,
        dns: settings.consul.dns,
        dnsForwarding: settings.consul.dnsForwarding,
        logLevel: settings.consul.logLevel,
        options: settings.consul.options,
        servers: withRole("consul-server")
            .filter((o) => o.name !== h.name)
            .map((o) => o.address),
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

    const cluster = new ConsulCluster("consul", {
        servers,
        clients,
        agentToken,
        swarmToken: swarmToken === undefined ? undefined : { token: swarmToken, kvPrefix: SWARM_KV_PREFIX },
        dns: settings.consul.dns,
    });
    const consulHttpAddr = pulumi.interpolate`http://${cluster.seed.host.address}:8500`;
    /** HTTPS API (verify the server with consulCaCert). */
    const consulHttpsAddr = consulCa ? pulumi.interpolate`https://${cluster.seed.host.address}:${CONSUL_HTTPS_PORT}` : undefined;

    const swarmMember = (h: HostSpec) => ({ host: hosts.get(h.name)!, daemon: daemons.get(h.name)! });
    const swarm =
        withRole("swarm-manager").length > 0
            ? new Swarm("swarm", {
                  managers: withRole("swarm-manager").map(swarmMember),
                  agents: withRole("swarm-agent")
                      .filter((h) => !h.roles.includes("swarm-manager"))
                      .map(swarmMember),
                  // Over HTTPS when Consul has TLS: the swarm hosts' token never crosses in clear.
                  consulHttpAddr: consulHttpsAddr ?? consulHttpAddr,
                  consulReady: [cluster.verify],
                  kvPrefix: SWARM_KV_PREFIX,
                  consulToken: swarmToken,
                  consulCaCert: consulCa?.caCert,
              })
            : undefined;

    return {
        datacenter: settings.datacenter,
        consulServers: Object.fromEntries(servers.map((s) => [s.host.name, s.host.address])),
        consulHttpAddr,
        consulUiUrl: pulumi.interpolate`${consulHttpAddr}/ui/`,
        consulHttpsAddr,
        consulCaCert: consulCa?.caCert,
        consulLeader: cluster.leader,
        consulMembers: cluster.members,
        dockerHosts: Object.fromEntries([...daemons].map(([name, d]) => [name, d.dockerHost])),
        swarmManager: swarm?.managerDockerHost,
        swarmNodes: swarm?.nodes,
        gossipKey: pulumi.secret(gossipKey),
        aclBootstrapToken: aclToken,
        /** What a Docker client needs for DOCKER_TLS_VERIFY=1 (DOCKER_CERT_PATH's ca.pem, cert.pem, key.pem). */
        dockerTls: dockerTls
            ? pulumi.secret({ caCert: dockerTls.caCert, clientCert: dockerTls.leaves.client.cert, clientKey: dockerTls.leaves.client.key })
            : undefined,
        labSshPrivateKey: lab ? pulumi.secret(lab.privateKey) : undefined,
    };
}
