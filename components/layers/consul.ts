// Consul on the hosts: the servers (their restarts chained, the leader last), the clients, the
// snapshot before an upgrade, and the cluster they form.
import * as pulumi from "@pulumi/pulumi";
import type { ConsulSwarmArgs, ConsulSwarmHost } from "../consulSwarm";
import { Role, rollingOrder } from "../config";
import { binarySha256, ConsulClient, ConsulServer } from "../consul/consulAgent";
import { ConsulCluster } from "../consul/consulCluster";
import { UpgradeSnapshot } from "../consul/consulSnapshot";
import { CONSUL_HTTPS_PORT } from "../consul/render";
import { Host } from "../host/host";
import { SWARM_KV_PREFIX } from "../swarm/render";
import { ClusterTrust } from "./trust";
import { apiOverHttps, tlsMoveOf } from "../consul/tlsStages";
import { aclMoveOf } from "../consul/aclStages";

export interface ConsulLayer {
    servers: ConsulServer[];
    clients: ConsulClient[];
    cluster: ConsulCluster;
    upgradeSnapshot: UpgradeSnapshot;
    consulHttpAddr: pulumi.Output<string>;
    /** HTTPS API (verify the server with the Consul CA); absent without Consul TLS. */
    consulHttpsAddr?: pulumi.Output<string>;
}

export function createConsul(
    args: ConsulSwarmArgs,
    child: pulumi.ResourceOptions,
    hosts: Map<string, Host>,
    trust: ClusterTrust,
    transition: pulumi.Resource & { departed: pulumi.Output<Record<string, string>> },
): ConsulLayer {
    const datacenter = args.datacenter;
    const federation = args.federation;
    const { consulCa, gossipKey, aclToken, acl, agentToken, replicationToken, swarmToken, swarmWorkerToken, primaryDatacenter, primaryServerAddresses } = trust;
    const withRole = (role: Role) => args.hosts.filter((h) => h.roles.includes(role));
    const tlsMove = tlsMoveOf(args);
    const aclMove = aclMoveOf(args);
    const agentArgs = (h: ConsulSwarmHost) => ({
        host: hosts.get(h.name)!,
        datacenter,
        install: args.consul.install,
        version: args.consul.version,
        gossipKey,
        acl: acl ? { ...acl, stage: aclMove.next } : undefined,
        tls: consulCa ? { caCert: consulCa.caCert, pair: consulCa.leaves[`agent-${h.name}`], stage: tlsMove.next } : undefined,
        ui: args.consul.ui,
        dns: args.consul.dns,
        dnsForwarding: args.consul.dnsForwarding,
        logLevel: args.consul.logLevel,
        options: args.consul.options,
        servers: withRole("consul-server")
            .filter((o) => o.name !== h.name)
            .map((o) => o.address),
        federation:
            replicationToken && primaryServerAddresses
                ? { primaryDatacenter, replicationToken, primaryServers: primaryServerAddresses }
                : undefined,
    });

    // Before a new release restarts any server, the cluster's state is saved here.
    const upgradeSnapshot = new UpgradeSnapshot("consul-snapshot", {
        servers: withRole("consul-server").map((h) =>
            consulCa && apiOverHttps(tlsMove) ? pulumi.interpolate`https://${h.address}:${CONSUL_HTTPS_PORT}` : pulumi.interpolate`http://${h.address}:8500`,
        ),
        // The servers have ACLs when the up starts, as the last up left them.
        managementToken: aclToken ?? ((aclMove.applied ?? 0) >= 1 ? args.appliedManagementToken : undefined),
        caCert: apiOverHttps(tlsMove) ? consulCa?.caCert : undefined,
        version: args.consul.version,
        binarySha256: binarySha256(args.consul.install),
        dir: args.snapshotDir ?? `snapshots/${pulumi.getStack()}`,
        after: [transition],
    }, child);

    // Servers are chained so that a change restarts them one at a time, the bootstrap server
    // last; whichever leads the cluster then goes after all of them (its deferred restart),
    // as does a healthy server of a degraded cluster; deferred restarts are chained too.
    const servers: ConsulServer[] = [];
    for (const h of rollingOrder(args.hosts)) {
        const previous = servers[servers.length - 1];
        servers.push(
            new ConsulServer(`${h.name}-consul`, {
                ...agentArgs(h),
                bootstrap: args.consul.bootstrapMode === "tutorial" ? h.bootstrap : undefined,
                bootstrapExpect: args.consul.bootstrapMode === "expect" ? withRole("consul-server").length : undefined,
                restartAfter: previous ? [previous.service] : [upgradeSnapshot.save],
            }, child),
        );
    }
    let previousDeferred: pulumi.Resource | undefined;
    for (const s of servers) {
        previousDeferred = s.deferRestart(servers[servers.length - 1].service, previousDeferred);
    }
    const clients = withRole("consul-client").map(
        (h) => new ConsulClient(`${h.name}-consul`, { ...agentArgs(h), restartAfter: servers.map((s) => s.ready) }, child),
    );

    const cluster = new ConsulCluster("consul", {
        servers,
        clients,
        agentToken,
        swarmToken: swarmToken === undefined || swarmWorkerToken === undefined ? undefined : { token: swarmToken, workerToken: swarmWorkerToken, kvPrefix: SWARM_KV_PREFIX },
        dns: args.consul.dns,
        departed: transition.departed,
        federation:
            federation && replicationToken
                ? {
                      datacenter,
                      version: args.consul.version,
                      primary: { ...federation.primary, datacenter: primaryDatacenter },
                      replicationToken,
                  }
                : undefined,
    }, child);
    const consulHttpAddr = pulumi.interpolate`http://${cluster.seed.host.address}:8500`;
    /** HTTPS API (verify the server with consulCaCert). */
    const consulHttpsAddr = consulCa ? pulumi.interpolate`https://${cluster.seed.host.address}:${CONSUL_HTTPS_PORT}` : undefined;

    return { servers, clients, cluster, upgradeSnapshot, consulHttpAddr, consulHttpsAddr };
}
