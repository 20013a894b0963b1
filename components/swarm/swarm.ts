import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DockerDaemon } from "../docker/dockerDaemon";
import { DriftCheck } from "../shared/driftCheck";
import { Host } from "../host/host";
import { renderScript, repairVars } from "../shared/script";
import { parseSwarmNodes, SWARM_KV_PREFIX } from "./render";

export interface SwarmMember {
    host: Host;
    daemon: DockerDaemon;
}

export interface SwarmArgs {
    /** The first manager initialises the swarm; the others join as managers. */
    managers: SwarmMember[];
    agents: SwarmMember[];
    /** Consul's HTTP API as the swarm hosts reach it: where they find the manager and the tokens. */
    consulHttpAddr: pulumi.Input<string>;
    /** The swarm forms only once Consul has a leader and the swarm's token: pass the cluster's kvReady step. */
    consulReady: pulumi.Input<pulumi.Resource>[];
    /** Consul KV prefix for the manager address and the join tokens. */
    kvPrefix?: string;
    /** With Consul ACLs on: the managers' token, which may read and write that prefix only (a secret; on stdin only). */
    consulToken?: pulumi.Input<string>;
    /** With Consul ACLs on: the workers' token, which may read the worker join token and the manager's address only. */
    consulWorkerToken?: pulumi.Input<string>;
    /** With Consul TLS: the CA that consulHttpAddr's certificate chains to (reaches hosts on stdin). */
    consulCaCert?: pulumi.Input<string>;
    verifyTimeoutSeconds?: number;
}

/**
 * What the swarm scripts (and a worker's restart turn) read on stdin: the swarm's Consul token's
 * line, then Consul's CA when it has TLS; a secret, never on a command line.
 */
export function swarmConsulStdin(token?: pulumi.Input<string>, caCert?: pulumi.Input<string>): pulumi.Output<string> | undefined {
    return token === undefined && caCert === undefined ? undefined : pulumi.secret(pulumi.interpolate`${token ?? ""}\n${caCert ?? ""}`);
}

/**
 * Docker swarm mode on the Docker hosts, discovered through Consul: the first manager runs
 * `docker swarm init` and publishes its address and the join tokens in Consul KV; every other
 * node reads them from there and joins. Verified by the manager listing every node Ready.
 */
export class Swarm extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:swarm:Swarm";

    readonly init: command.remote.Command;
    readonly joins: command.remote.Command[];
    readonly verify: command.remote.Command;
    /** DOCKER_HOST of the first manager. */
    readonly managerDockerHost: pulumi.Output<string>;
    readonly nodes: pulumi.Output<{ hostname: string; status: string; availability: string; manager: string }[]>;

    constructor(name: string, args: SwarmArgs, opts?: pulumi.ComponentResourceOptions) {
        if (args.managers.length === 0) {
            throw new Error(`Swarm ${name}: no manager`);
        }
        const facts = { managers: args.managers.map((m) => m.host.name), agents: args.agents.map((m) => m.host.name) };
        super(Swarm.type, name, facts, opts);
        const kvPrefix = args.kvPrefix ?? SWARM_KV_PREFIX;
        const [first, ...otherManagers] = args.managers;
        // Each step owns the node's swarm membership while it is the step of the stack for that node.
        const owner = (step: string, action: "claim" | "check", part = "swarm") => ({ part, id: `${Swarm.type}/${step}`, action });
        const leave = (step: string) => renderScript("swarm-leave", {}, [], owner(step, "check"));
        const kvVars = { ACL: args.consulToken !== undefined ? "yes" : "no", KV_PREFIX: kvPrefix };
        const stdin = swarmConsulStdin(args.consulToken, args.consulCaCert);
        const workerStdin = swarmConsulStdin(args.consulWorkerToken ?? args.consulToken, args.consulCaCert);

        // A node that left the swarm (or was moved to another): refresh sees it, up joins it again.
        // A node a manager took out (docker node rm) still says active itself: a joiner asks the
        // first manager too, through its Docker API.
        const managerApi = (m: SwarmMember) => (m === first ? pulumi.output({}) : first.daemon.dockerHost.apply((api) => ({ MANAGER_API: api })));
        const driftCheck = (m: SwarmMember, clusterId: pulumi.Input<string>) =>
            new DriftCheck(
                `${name}-drift-${m.host.name}`,
                {
                    connection: m.host.connection,
                    script: pulumi
                        .all([clusterId, managerApi(m)])
                        .apply(([id, manager]) => renderScript("swarm-drift", { CLUSTER_ID: id, ...manager }, ["swarm-lib"])),
                    expected: { clusterId, machine: m.host.machine },
                },
                { parent: this },
            );
        // The first manager's swarm is whatever it made: no id to hold it to.
        const initDrift = driftCheck(first, "");
        this.init = first.host.step(`${name}-init-${first.host.name}`, this, {
            create: pulumi
                .all([first.host.address, args.consulHttpAddr, pulumi.all(otherManagers.map((m) => m.host.address)), initDrift.repairs])
                .apply(([addr, consul, others, repairs]) =>
                    renderScript(
                        "swarm-init",
                        { ...kvVars, ...repairVars(repairs), ADDR: addr, CONSUL: consul, OTHER_MANAGERS: [...others].sort().join(" ") },
                        ["swarm-lib"],
                        owner(`${name}-init-${first.host.name}`, "claim"),
                    ),
                ),
            // Handed over to the managers that stay, if any (their Docker APIs as the config had them).
            delete: pulumi.all(otherManagers.map((m) => m.daemon.dockerHost)).apply((apis) =>
                renderScript(
                    "swarm-first-leave",
                    { OTHER_MANAGER_APIS: apis.join(" "), WAIT_SECONDS: args.verifyTimeoutSeconds ?? 120 },
                    ["retry-lib"],
                    owner(`${name}-init-${first.host.name}`, "check"),
                ),
            ),
            stdin,
            after: [first.daemon.restarted, ...args.consulReady],
        });

        // The swarm every other node must be in: when the first manager's machine is rebuilt with
        // no swarm left to rejoin, a new id re-runs each join step, which moves its node over.
        const clusterId = this.init.stdout.apply((out) => /^cluster_id=(\S+)$/m.exec(out)?.[1] ?? "");
        const joiners = [
            ...otherManagers.map((m) => ({ m, role: "manager" })),
            ...args.agents.map((m) => ({ m, role: "worker" })),
        ];
        const joinDrifts = joiners.map(({ m }) => driftCheck(m, clusterId));
        this.joins = joiners.map(
            ({ m, role }, i) =>
                m.host.step(`${name}-join-${m.host.name}`, this, {
                    create: pulumi
                        .all([m.host.address, args.consulHttpAddr, clusterId, joinDrifts[i].repairs, managerApi(m)])
                        .apply(([addr, consul, cluster, repairs, manager]) =>
                            renderScript(
                                "swarm-join",
                                { ...kvVars, ...repairVars(repairs), ...manager, ADDR: addr, CLUSTER_ID: cluster, CONSUL: consul, ROLE: role },
                                ["retry-lib", "swarm-lib"],
                                owner(`${name}-join-${m.host.name}`, "claim"),
                            ),
                        ),
                    delete: leave(`${name}-join-${m.host.name}`),
                    stdin: role === "manager" ? stdin : workerStdin,
                    after: [this.init, m.daemon.restarted],
                }),
        );
        // The manager's side of each node's membership: while the node stays, its role (a worker
        // made a manager is promoted here, a manager made a worker demoted); when it leaves the
        // stack, it is drained, demoted and removed before its own join step leaves.
        // No machine in its triggers: a rebuilt node keeps its membership (verify tidies the rest).
        joiners.forEach(
            ({ m, role }, i) =>
                first.host.step(`${name}-member-${m.host.name}`, this, {
                    // Records on the manager which step stands for the node, so a renamed
                    // host's old membership step does not drain the node that stays.
                    create: m.host.facts.apply((f) =>
                        renderScript("swarm-node-claim", { NODE: f.hostname, ROLE: role }, ["retry-lib"], owner(`${name}-member-${m.host.name}`, "claim", `swarm-member-${f.hostname}`)),
                    ),
                    delete: m.host.facts.apply((f) =>
                        renderScript(
                            "swarm-node-remove",
                            { NODE: f.hostname, WAIT_SECONDS: args.verifyTimeoutSeconds ?? 120 },
                            ["retry-lib"],
                            owner(`${name}-member-${m.host.name}`, "check", `swarm-member-${f.hostname}`),
                        ),
                    ),
                    identity: null,
                    after: [this.joins[i]],
                }),
        );

        const members = [...args.managers, ...args.agents];
        this.verify = first.host.step(`${name}-verify`, this, {
            // Swarm knows nodes by their hostnames, which the hosts' facts report.
            // After a repair too: a node that joined again leaves its old entry Down, which verify removes.
            create: pulumi
                .all([pulumi.all(members.map((m) => m.host.facts)), pulumi.all([initDrift, ...joinDrifts].map((d) => d.repairs))])
                .apply(([facts, repairs]) =>
                    renderScript(
                        "swarm-verify",
                        {
                            ...repairVars(repairs.reduce((a, b) => a + (b ?? 0), 0)),
                            EXPECTED_NODES: facts.map((f) => f.hostname).sort().join(" "),
                            // Which membership step stands for each node, as those steps claim it.
                            MEMBER_CLAIMS: joiners
                                .map(({ m }) => `swarm-member-${facts[members.indexOf(m)].hostname}=${owner(`${name}-member-${m.host.name}`, "claim").id}`)
                                .join(" "),
                            WAIT_SECONDS: args.verifyTimeoutSeconds ?? 120,
                        },
                        ["owner-lib"],
                    ),
                ),
            identity: [pulumi.all(members.map((m) => m.host.machine))],
            after: [this.init, ...this.joins],
        });
        this.managerDockerHost = first.daemon.dockerHost;
        this.nodes = this.verify.stdout.apply(parseSwarmNodes);
        this.registerOutputs({ ...facts, managerDockerHost: this.managerDockerHost, nodes: this.nodes });
    }
}
