import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { TlsPair } from "../tls/certificateAuthority";
import { DriftCheck } from "../shared/driftCheck";
import { Host } from "../host/host";
import { dockerDaemonDeleteScript, dockerDaemonDriftScript, dockerDaemonScript, dockerRestartScript, RestartTurns } from "./render";

export interface DockerDaemonArgs {
    host: Host;
    /** The TCP port the API listens on next to the unix socket (the tutorial's 2375). */
    tcpPort?: pulumi.Input<number>;
    /** The address the TCP API binds to. */
    bindAddress?: pulumi.Input<string>;
    /** TLS with client-certificate auth: the CA and this host's server pair. Absent: plain TCP. */
    tls?: { caCert: pulumi.Input<string>; server: TlsPair };
    /** The previous manager's turn (its `restarted` step): managers' daemons restart one at a time. */
    restartAfter?: pulumi.Input<pulumi.Resource>[];
    /**
     * A swarm worker's turns, taken from Consul KV when it must restart: a bounded number of
     * workers at a time, and a dead one holds no other back. With `consulStdin`, what the swarm
     * scripts read on stdin (the swarm's Consul token, Consul's CA).
     */
    workerTurns?: { turns: pulumi.Input<RestartTurns>; consulStdin?: pulumi.Input<string> };
}

/**
 * Opens the Docker daemon's API on TCP next to the unix socket, the way the host's OS wants it:
 * /etc/sysconfig/docker OPTIONS on CentOS/RHEL 7, daemon.json `hosts` plus a systemd drop-in
 * elsewhere. dockerd restarts only when the rendered config changed: at once on a host that is
 * not in a swarm yet, else in its turn (`restarted`): managers one after the other, workers a
 * bounded number at a time, each with a turn from Consul KV.
 */
export class DockerDaemon extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:docker:DockerDaemon";

    /** DOCKER_HOST for this daemon, e.g. tcp://10.0.0.5:2375. */
    readonly dockerHost: pulumi.Output<string>;
    readonly configured: command.remote.Command;
    /** The daemon running its current config, restarted in its turn if it had to: what the swarm waits for. */
    readonly restarted: command.remote.Command;
    /** What `pulumi refresh` found changed on the host since the daemon was configured. */
    readonly drift: DriftCheck;

    constructor(name: string, args: DockerDaemonArgs, opts?: pulumi.ComponentResourceOptions) {
        const port = pulumi.output(args.tcpPort ?? 2375);
        const bind = pulumi.output(args.bindAddress ?? "0.0.0.0");
        // What a policy pack checks: where the API listens and whether it is protected by TLS.
        const tls = args.tls !== undefined;
        const facts = { host: args.host.name, tcpPort: port, bindAddress: bind, tls };
        super(DockerDaemon.type, name, facts, opts);
        const ownerId = `${DockerDaemon.type}/${name}`;
        // dockerd stopped, its config edited, or running an old one: refresh sees it, up repairs it.
        this.drift = new DriftCheck(
            `${name}-drift`,
            {
                connection: args.host.connection,
                script: args.host.facts.apply((f) => dockerDaemonDriftScript(f.osFamily)),
                expected: { machine: args.host.machine },
            },
            { parent: this },
        );
        const script = pulumi
            .all([args.host.facts, port, bind, this.drift.repairs])
            .apply(([facts, tcpPort, bindAddress, repairs]) => dockerDaemonScript(facts.osFamily, { tcpPort, bindAddress, tls }, ownerId, repairs));
        this.configured = args.host.step(`${name}-config`, this, {
            // A changed config runs it again, in place; the script restarts dockerd only if it must.
            create: script,
            delete: args.host.facts.apply((f) => dockerDaemonDeleteScript(f.osFamily, ownerId)),
            // The CA, the server certificate and its key: a secret in state.
            stdin: args.tls ? pulumi.secret(pulumi.interpolate`${args.tls.caCert}${args.tls.server.cert}${args.tls.server.key}`) : undefined,
            after: [args.host.ready],
        });
        this.restarted = args.host.step(`${name}-restart`, this, {
            create: pulumi
                .all([args.host.facts, port, bind, this.configured.stdout, args.workerTurns?.turns])
                .apply(([facts, tcpPort, bindAddress, run, turns]) => dockerRestartScript(facts.osFamily, { tcpPort, bindAddress, tls }, run, turns)),
            stdin: args.workerTurns?.consulStdin,
            after: [this.configured, ...(args.restartAfter ?? [])],
        });
        this.dockerHost = pulumi.interpolate`tcp://${args.host.address}:${port}`;
        this.registerOutputs({ ...facts, dockerHost: this.dockerHost });
    }
}
