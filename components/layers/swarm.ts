// Docker and the swarm on the hosts: each daemon's API (managers restarted one at a time, the
// first manager last; workers by turns taken in Consul KV), then the swarm found through Consul.
import * as pulumi from "@pulumi/pulumi";
import type { ConsulSwarmArgs, ConsulSwarmHost } from "../consulSwarm";
import { managerRestartOrder, Role } from "../config";
import { DockerDaemon } from "../docker/dockerDaemon";
import { Host } from "../host/host";
import { SWARM_KV_PREFIX } from "../swarm/render";
import { Swarm, swarmConsulStdin } from "../swarm/swarm";
import { ConsulLayer } from "./consul";
import { ClusterTrust } from "./trust";

export interface SwarmLayer {
    daemons: Map<string, DockerDaemon>;
    swarm?: Swarm;
}

export function createSwarm(args: ConsulSwarmArgs, child: pulumi.ResourceOptions, hosts: Map<string, Host>, trust: ClusterTrust, consul: ConsulLayer): SwarmLayer {
    const { dockerTls, consulCa, swarmToken, swarmWorkerToken, hasSwarm } = trust;
    const { cluster, consulHttpAddr, consulHttpsAddr } = consul;
    const dockerHostSpecs = args.hosts.filter((h) => h.roles.includes("swarm-manager") || h.roles.includes("swarm-agent"));
    const withRole = (role: Role) => args.hosts.filter((h) => h.roles.includes(role));
    // Managers' daemons restart one at a time, the first manager (where the swarm began) last,
    // so the managers keep their quorum. Workers take turns from Consul KV instead of a chain:
    // a worker that does not answer must not hold back every host after it.
    const workerTurns = {
        turns: pulumi.output(consulHttpsAddr ?? consulHttpAddr).apply((consul) => ({
            consul,
            kvPrefix: SWARM_KV_PREFIX,
            acl: swarmToken !== undefined,
            atOnce: args.docker.workerRestartsAtOnce,
        })),
        consulStdin: swarmConsulStdin(swarmWorkerToken, consulCa?.caCert),
    };
    const daemons = new Map<string, DockerDaemon>();
    let previousManager: DockerDaemon | undefined;
    const managersInTurn = managerRestartOrder(dockerHostSpecs);
    for (const h of [...managersInTurn, ...dockerHostSpecs.filter((x) => !managersInTurn.includes(x))]) {
        const manager = h.roles.includes("swarm-manager");
        const daemon = new DockerDaemon(`${h.name}-docker`, {
            host: hosts.get(h.name)!,
            tcpPort: args.docker.tcpPort,
            bindAddress: h.dockerBindAddress ?? args.docker.bindAddress,
            tls: dockerTls ? { caCert: dockerTls.caCert, server: dockerTls.leaves[`server-${h.name}`] } : undefined,
            restartAfter: manager && previousManager ? [previousManager.restarted] : [],
            workerTurns: manager || !hasSwarm ? undefined : workerTurns,
        }, child);
        daemons.set(h.name, daemon);
        if (manager) {
            previousManager = daemon;
        }
    }

    const swarmMember = (h: ConsulSwarmHost) => ({ host: hosts.get(h.name)!, daemon: daemons.get(h.name)! });
    const swarm =
        withRole("swarm-manager").length > 0
            ? new Swarm("swarm", {
                  managers: withRole("swarm-manager").map(swarmMember),
                  agents: withRole("swarm-agent")
                      .filter((h) => !h.roles.includes("swarm-manager"))
                      .map(swarmMember),
                  // Over HTTPS when Consul has TLS: the swarm hosts' token never crosses in clear.
                  consulHttpAddr: consulHttpsAddr ?? consulHttpAddr,
                  consulReady: [cluster.kvReady],
                  kvPrefix: SWARM_KV_PREFIX,
                  consulToken: swarmToken,
                  consulWorkerToken: swarmWorkerToken,
                  consulCaCert: consulCa?.caCert,
              }, child)
            : undefined;

    return { daemons, swarm };
}
