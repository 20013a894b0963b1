// The cluster's trust: its CAs and certificates, the gossip key and the ACL tokens, made once per
// stack (or, in a secondary datacenter, read from its primary's stack) and kept secrets.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ConsulSwarmArgs } from "../consulSwarm";
import { Role } from "../config";
import { uuidFromHex } from "../consul/render";
import { tlsMoveOf } from "../consul/tlsStages";
import { aclMoveOf } from "../consul/aclStages";
import { CertificateAuthority } from "../tls/certificateAuthority";

export interface ClusterTrust {
    dockerTls?: CertificateAuthority;
    consulCa?: CertificateAuthority;
    gossipKey: pulumi.Output<string>;
    /** The management token (the primary's, in a secondary datacenter). */
    aclToken?: pulumi.Output<string>;
    acl?: { managementToken: pulumi.Output<string>; agentToken: pulumi.Output<string> };
    agentToken?: pulumi.Output<string>;
    replicationToken?: pulumi.Output<string>;
    swarmToken?: pulumi.Output<string>;
    swarmWorkerToken?: pulumi.Output<string>;
    /** Where ACLs are authoritative: this datacenter, or the primary it joined. */
    primaryDatacenter: pulumi.Output<string>;
    primaryServerAddresses?: pulumi.Output<string[]>;
    hasSwarm: boolean;
}

/** The cluster's CAs, keys and tokens, after the transition is judged. */
export function createTrust(args: ConsulSwarmArgs, child: pulumi.ResourceOptions, transition: pulumi.Resource): ClusterTrust {
    const datacenter = args.datacenter;
    const lifetime = (ca: string) => ({
        leafValiditySeconds: args.certificates?.validitySeconds,
        renewWhenLeft: args.certificates?.renewWhenLeft,
        applied: pulumi.output(args.appliedCertificates).apply((all) =>
            Object.fromEntries(Object.entries(all ?? {}).flatMap(([k, v]) => (k.startsWith(`${ca}:`) ? [[k.slice(ca.length + 1), v]] : []))),
        ),
    });
    const dockerHostSpecs = args.hosts.filter((h) => h.roles.includes("swarm-manager") || h.roles.includes("swarm-agent"));
    const dockerTls =
        args.docker.tls && dockerHostSpecs.length > 0
            ? new CertificateAuthority("docker-tls", {
                  after: [transition],
                  ...lifetime("docker"),
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
                                  subjectAltName: pulumi.interpolate`IP:${h.address},DNS:${h.name},IP:127.0.0.1,DNS:localhost`,
                              },
                          ]),
                      ),
                  },
              }, child)
            : undefined;
    const federation = args.federation;
    // A secondary uses the primary's gossip key (the WAN pool has one keyring) and management
    // token (ACLs are global, made in the primary); it makes neither.
    const gossipKey = federation ? pulumi.secret(federation.gossipKey) : new random.RandomBytes("gossip-key", { length: 32 }, child).base64;
    // ACLs on from their first stage (see consul/aclStages.ts): every token exists from then on.
    const aclOn = aclMoveOf(args).next >= 1;
    // The ACL management token: made once per stack, a secret end to end.
    const aclToken = federation
        ? pulumi.secret(federation.managementToken)
        : aclOn
          ? pulumi.secret(new random.RandomBytes("consul-acl-token", { length: 16 }, child).hex.apply(uuidFromHex))
          : undefined;
    const replicationToken = federation
        ? pulumi.secret(new random.RandomBytes("consul-replication-token", { length: 16 }, child).hex.apply(uuidFromHex))
        : undefined;
    const primaryDatacenter = federation
        ? pulumi.output(federation.primary.datacenter).apply((dc) => {
              if (dc === datacenter) {
                  throw new Error(
                      `consul-swarm: federation.primaryStack runs datacenter "${dc}", and so would this stack: set consul-swarm:datacenter to a name of its own (e.g. "dc2")`,
                  );
              }
              return dc;
          })
        : pulumi.output(datacenter);
    const primaryServerAddresses = federation
        ? pulumi.output(federation.primary.servers).apply((servers) => Object.values(servers))
        : undefined;
    // The agents' own token: least privilege (register their node, read services), never the management one.
    const agentToken = aclOn
        ? pulumi.secret(new random.RandomBytes("consul-agent-token", { length: 16 }, child).hex.apply(uuidFromHex))
        : undefined;
    const acl = aclToken && agentToken ? { managementToken: aclToken, agentToken } : undefined;
    const hasSwarm = args.hosts.some((h) => h.roles.includes("swarm-manager"));
    // The swarm managers' token: read and write the swarm's KV prefix, nothing else. The
    // workers': read the worker join token and the manager's address, take restart turns.
    const swarmToken =
        aclOn && hasSwarm
            ? pulumi.secret(new random.RandomBytes("consul-swarm-token", { length: 16 }, child).hex.apply(uuidFromHex))
            : undefined;
    const swarmWorkerToken =
        aclOn && hasSwarm
            ? pulumi.secret(new random.RandomBytes("consul-swarm-worker-token", { length: 16 }, child).hex.apply(uuidFromHex))
            : undefined;
    const withRole = (role: Role) => args.hosts.filter((h) => h.roles.includes(role));
    const consulAgents = [...withRole("consul-server"), ...withRole("consul-client")];
    // Servers carry server.<dc>.consul (verify_server_hostname checks it), clients client.<dc>.consul.
    const consulCa = tlsMoveOf(args).next >= 1
        ? new CertificateAuthority("consul-tls", {
              after: [transition],
              ...lifetime("consul"),
              commonName: "consul-swarm Consul CA",
              // A secondary issues from the primary's CA: each side's servers then verify the
              // other's server.<dc>.consul certificates with the CA they already have.
              existing: federation?.consulCa,
              leaves: Object.fromEntries(
                  consulAgents.map((h) => {
                      const cn = `${h.roles.includes("consul-server") ? "server" : "client"}.${datacenter}.consul`;
                      return [
                          `agent-${h.name}`,
                          { commonName: cn, extendedKeyUsage: "serverAuth,clientAuth", subjectAltName: pulumi.interpolate`DNS:${cn},DNS:localhost,IP:${h.address},IP:127.0.0.1` },
                      ];
                  }),
              ),
          }, child)
        : undefined;
    return { dockerTls, consulCa, gossipKey, aclToken, acl, agentToken, replicationToken, swarmToken, swarmWorkerToken, primaryDatacenter, primaryServerAddresses, hasSwarm };
}
