import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ConsulClient, ConsulServer } from "./consulAgent";
import {
    CONSUL_AGENT_POLICY_RULES,
    CONSUL_CONFIG_DIR,
    CONSUL_DNS_POLICY_RULES,
    CONSUL_REPLICATION_POLICY_RULES,
    CONSUL_TLS_DIR,
    CONSUL_TOKEN_FILE,
    ConsulMember,
    parseClusterStatus,
    swarmPolicyRules,
    swarmWorkerPolicyRules,
} from "./render";
import { renderScript } from "../shared/script";
import { PrimaryDatacenter, WanFederation } from "./wanFederation";

export interface ConsulClusterArgs {
    servers: ConsulServer[];
    clients?: ConsulClient[];
    /** Bound on the wait for a leader, the peers and the members, in seconds. */
    verifyTimeoutSeconds?: number;
    /** With ACLs on: the agents' token, created here with its policy (a secret; on stdin only). */
    agentToken?: pulumi.Input<string>;
    /**
     * With ACLs and a swarm: the swarm managers' token, limited to their KV prefix, and the
     * workers', limited to what joining as a worker reads (secrets; on stdin only).
     */
    swarmToken?: { token: pulumi.Input<string>; workerToken: pulumi.Input<string>; kvPrefix: string };
    /** Consul's DNS is served: with ACLs the anonymous token may read node and service names. */
    dns?: boolean;
    /**
     * Hosts the stack once had and no longer has, name → address (ClusterTransition.departed):
     * the only members the verify step may prune besides the stack's own. An agent joined by hand
     * is never the stack's to take out.
     */
    departed?: pulumi.Input<Record<string, string>>;
    /**
     * A secondary datacenter: its servers join the primary's over the WAN before its ACL step,
     * whose policies and tokens are written in the primary (policy names carry this datacenter's
     * name: they are global), with the token that replicates the primary's ACLs here.
     */
    federation?: { datacenter: string; version: string; primary: PrimaryDatacenter; replicationToken: pulumi.Input<string> };
}

/**
 * The join step and its proof: `consul join` from the bootstrap server (the first server in
 * expect mode) to every other agent, then a bounded wait until there is a leader, every server
 * is a raft peer, and every agent is alive in `consul members` and in /v1/catalog/nodes.
 */
export class ConsulCluster extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:consul:ConsulCluster";

    readonly quorumGuard: command.remote.Command;
    readonly join: command.remote.Command;
    readonly verify: command.remote.Command;
    /**
     * After it the cluster has a leader and the stack's tokens exist: what KV users (the swarm)
     * wait for. Not the verify step, whose wait for every server to vote (autopilot's
     * stabilisation, 10–20 s on a first up) they do not need.
     */
    readonly kvReady: pulumi.Resource;
    /** The leader's node name. */
    readonly leader: pulumi.Output<string>;
    /** The leader's RPC address (ip:8300). */
    readonly leaderAddress: pulumi.Output<string>;
    readonly members: pulumi.Output<ConsulMember[]>;
    /** The datacenters the cluster sees (/v1/catalog/datacenters) when it was last verified. */
    readonly datacenters: pulumi.Output<string[]>;
    /** A secondary datacenter's WAN join. */
    readonly wan?: WanFederation;
    /** The server the join step runs on: where the cluster is first reachable. */
    readonly seed: ConsulServer;

    constructor(name: string, args: ConsulClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        if (args.servers.length === 0) {
            throw new Error(`ConsulCluster ${name}: no servers`);
        }
        const clients = args.clients ?? [];
        const facts = { servers: args.servers.map((s) => s.host.name), clients: clients.map((c) => c.host.name) };
        super(ConsulCluster.type, name, facts, opts);
        this.seed = args.servers.find((s) => s.bootstrap) ?? args.servers[0];
        const seedHost = this.seed;
        const agents = [...args.servers, ...clients];
        const others = agents.filter((a) => a !== seedHost);
        const everyService = agents.map((a) => a.ready);
        const joinAddresses = pulumi.all(others.map((a) => a.host.address)).apply((a) => [...a].sort());
        // A new set of agents, or a new machine behind one of them, joins and verifies again.
        const membership = [joinAddresses, pulumi.all(agents.map((a) => a.host.machine))];

        const wait = args.verifyTimeoutSeconds ?? 180;
        // Runs first whenever the membership changes, and fails the up before any server is taken
        // out when that would cost the cluster its quorum (the deletes come last in an up).
        this.quorumGuard = seedHost.host.step(`${name}-quorum-guard`, this, {
            create: renderScript(
                "consul-quorum-guard",
                { EXPECTED_SERVER_NODES: args.servers.map((s) => s.host.name).join(" "), TOKEN_FILE: CONSUL_TOKEN_FILE },
                ["consul-lib"],
            ),
            identity: membership,
            after: [seedHost.host.ready],
        });
        this.join = seedHost.host.step(`${name}-join`, this, {
            create: pulumi.all([joinAddresses, seedHost.host.address]).apply(([addresses, self]) =>
                addresses.length === 0
                    ? "true"
                    : renderScript(
                          "consul-join",
                          { ADDRESSES: addresses.join(" "), SELF: self, TLS_DIR: CONSUL_TLS_DIR, TOKEN_FILE: CONSUL_TOKEN_FILE, WAIT_SECONDS: wait },
                          ["retry-lib"],
                      ),
            ),
            identity: membership,
            after: [...everyService, this.quorumGuard],
        });
        const federation = args.federation;
        this.wan = federation
            ? new WanFederation(`${name}-wan`, {
                  datacenter: federation.datacenter,
                  version: federation.version,
                  primary: federation.primary,
                  seed: seedHost,
                  servers: args.servers,
                  membership,
                  waitSeconds: wait,
                  dependsOn: [this.join],
              }, { parent: this })
            : undefined;
        const policy = (stem: string) => (federation ? `${stem}-${federation.datacenter}` : stem);
        /** Where a secondary's ACL writes go; none in a primary. */
        const aclDatacenter = pulumi.output(federation?.primary.datacenter ?? "");
        // With ACLs, agents register only once their token exists: make it before verifying.
        const aclAgent =
            args.agentToken === undefined
                ? undefined
                : seedHost.host.step(`${name}-acl-agent`, this, {
                    create: aclDatacenter.apply((primaryDc) => renderScript(
                        "consul-acl-agent",
                        {
                            ...(federation
                                ? {
                                      ACL_DC: primaryDc,
                                      DATACENTER: federation.datacenter,
                                      REPLICATION_POLICY: policy("consul-swarm-replication"),
                                      REPLICATION_RULES: CONSUL_REPLICATION_POLICY_RULES,
                                  }
                                : {}),
                            DNS: args.dns === false ? "no" : "yes",
                            DNS_POLICY: "consul-swarm-dns",
                            DNS_RULES: CONSUL_DNS_POLICY_RULES,
                            POLICY: policy("consul-swarm-agent"),
                            RULES: CONSUL_AGENT_POLICY_RULES,
                            SWARM_POLICY: args.swarmToken ? policy("consul-swarm-swarm") : "",
                            SWARM_RULES: args.swarmToken ? swarmPolicyRules(args.swarmToken.kvPrefix) : "",
                            SWARM_WORKER_POLICY: args.swarmToken ? policy("consul-swarm-swarm-worker") : "",
                            SWARM_WORKER_RULES: args.swarmToken ? swarmWorkerPolicyRules(args.swarmToken.kvPrefix) : "",
                            TOKEN_FILE: CONSUL_TOKEN_FILE,
                            WAIT_SECONDS: wait,
                        },
                        ["retry-lib", "consul-acl-lib"],
                    )),
                    stdin: pulumi.secret(
                        pulumi.interpolate`${args.agentToken}\n${args.swarmToken?.token ?? ""}\n${federation?.replicationToken ?? ""}\n${args.swarmToken?.workerToken ?? ""}\n`,
                    ),
                    identity: membership,
                    after: [this.wan?.join ?? this.join],
                });
        // A secondary's policies and tokens live in the primary: they go when this datacenter does.
        // No create and no triggers: never replaced, so its delete runs only when the datacenter
        // (or its federation) is taken down, after the swarm that uses the tokens (it waits for this).
        const aclRelease =
            aclAgent && federation
                ? seedHost.host.step(`${name}-acl-release`, this, {
                    delete: aclDatacenter.apply((primaryDc) =>
                        renderScript(
                            "consul-acl-release",
                            {
                                ACL_DC: primaryDc,
                                POLICIES: ["consul-swarm-agent", ...(args.swarmToken ? ["consul-swarm-swarm", "consul-swarm-swarm-worker"] : []), "consul-swarm-replication"].map(policy).join(" "),
                                TOKEN_FILE: CONSUL_TOKEN_FILE,
                                WAIT_SECONDS: 30,
                            },
                            ["retry-lib", "consul-acl-lib"],
                        ),
                    ),
                    identity: null,
                    after: [aclAgent],
                })
                : undefined;
        this.kvReady = aclRelease ?? aclAgent ?? this.join;
        this.verify = seedHost.host.step(`${name}-verify`, this, {
            create: pulumi
                .all([pulumi.all(agents.map((a) => a.host.address)), args.departed])
                // A stack applied before departed hosts were kept has none.
                .apply(([addresses, departed = {}]) =>
                    renderScript(
                        "consul-verify",
                        {
                            CONFIG_DIR: CONSUL_CONFIG_DIR,
                            DEPARTED_NODES: Object.keys(departed).sort().join(" "),
                            EXPECTED_NODES: agents.map((a) => a.host.name).join(" "),
                            EXPECTED_SERVER_NODES: args.servers.map((s) => s.host.name).join(" "),
                            ...(federation ? { ACL_REPLICATION: "yes" } : {}),
                            STACK_ADDRESSES: [...new Set([...addresses, ...Object.values(departed)])].sort().join(" "),
                            TOKEN_FILE: CONSUL_TOKEN_FILE,
                            WAIT_SECONDS: wait,
                        },
                        ["consul-lib"],
                    ),
                ),
            identity: membership,
            after: [aclAgent ?? this.wan?.join ?? this.join],
        });
        const status = this.verify.stdout.apply(parseClusterStatus);
        this.leader = status.apply((s) => s.leader);
        this.leaderAddress = status.apply((s) => s.leaderAddress);
        this.members = status.apply((s) => s.members);
        this.datacenters = status.apply((s) => s.datacenters);
        this.registerOutputs({ ...facts, leader: this.leader, leaderAddress: this.leaderAddress, members: this.members });
    }
}
