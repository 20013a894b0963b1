// What the DockerDaemon part sends to a host: daemon.json or sysconfig flags, the drop-in, and
// its scripts with their values. Pure functions, unit-tested byte for byte.
import { OsFamily } from "../host/render";
import { renderScript, repairVars, sha256, StepOwner } from "../shared/script";

export interface DockerApiOptions {
    tcpPort: number;
    bindAddress: string;
    /** TLS with client-certificate auth (tlsverify); the material reaches the host on stdin. */
    tls: boolean;
}

/** Where the TLS material lives on a host. */
export const DOCKER_TLS_DIR = "/etc/docker/tls";

/** Where a script on the host itself reaches the TCP API. */
function pingAddress(opts: DockerApiOptions): string {
    return opts.bindAddress === "0.0.0.0" ? "127.0.0.1" : opts.bindAddress;
}

export function dockerHosts(opts: DockerApiOptions): string[] {
    return ["unix:///var/run/docker.sock", `tcp://${opts.bindAddress}:${opts.tcpPort}`];
}

/** The keys the stack owns in daemon.json; every other key of an existing file is kept. */
export function dockerDaemonJson(opts: DockerApiOptions): string {
    const tls = opts.tls
        ? {
              tls: true,
              tlscacert: `${DOCKER_TLS_DIR}/ca.pem`,
              tlscert: `${DOCKER_TLS_DIR}/cert.pem`,
              tlskey: `${DOCKER_TLS_DIR}/key.pem`,
              tlsverify: true,
          }
        : {};
    return JSON.stringify({ hosts: dockerHosts(opts), ...tls }, null, 2) + "\n";
}

/**
 * systemd drop-in for Debian-family hosts: the packaged unit passes `-H fd://`, and dockerd refuses
 * to start when both the command line and daemon.json name hosts, so the drop-in clears ExecStart.
 * DOCKERD is replaced on the host by the path of its own dockerd binary.
 */
export const DOCKER_DROPIN = "[Service]\nExecStart=\nExecStart=@DOCKERD@ $DOCKER_OPTS\n";

/** The OPTIONS flags for /etc/sysconfig/docker on CentOS/RHEL 7, where the tutorial puts them. */
export function dockerSysconfigFlags(opts: DockerApiOptions): string {
    const hosts = dockerHosts(opts).map((h) => `-H ${h}`);
    const tls = opts.tls
        ? [`--tlsverify`, `--tlscacert=${DOCKER_TLS_DIR}/ca.pem`, `--tlscert=${DOCKER_TLS_DIR}/cert.pem`, `--tlskey=${DOCKER_TLS_DIR}/key.pem`]
        : [];
    return [...hosts, ...tls].join(" ");
}

/** The whole DockerDaemon script for a host of the given OS family. */
export function dockerDaemonScript(family: OsFamily, opts: DockerApiOptions, ownerId = "docker", repairs?: number): string {
    const common = { ...repairVars(repairs), ...dockerApiVars(family, opts) };
    const owner: StepOwner = { part: "docker", id: ownerId, action: "claim" };
    const libs = ["docker-lib", "docker-config-lib", "docker-tls-files", "record-lib", "retry-lib"];
    const daemonJson = { DAEMON_JSON: dockerDaemonJson(opts), DROPIN: DOCKER_DROPIN };
    if (family === "rhel") {
        // Which file the host's dockerd reads, its unit says on the host.
        return renderScript("docker-sysconfig", { ...common, ...daemonJson, FLAGS: dockerSysconfigFlags(opts) }, libs, owner);
    }
    return renderScript("docker-daemon-json", { ...common, ...daemonJson }, libs, owner);
}

/** The files dockerd's config is made of, per OS family: what the Docker step writes and restarts for. */
function dockerConfigFiles(family: OsFamily): string[] {
    const daemonJson = ["/etc/docker/daemon.json", "/etc/systemd/system/docker.service.d/consul-swarm.conf", DOCKER_TLS_DIR];
    // A RHEL-family host writes one set or the other (see docker-sysconfig.sh); a file it does not
    // write is never newer than the daemon's start.
    return family === "rhel" ? ["/etc/sysconfig/docker", ...daemonJson] : daemonJson;
}

/** What the Docker scripts need to know of the API and its files. */
function dockerApiVars(family: OsFamily, opts: DockerApiOptions) {
    return {
        FILES: dockerConfigFiles(family).join(" "),
        PING_ADDR: pingAddress(opts),
        PORT: opts.tcpPort,
        TLS: opts.tls ? "yes" : "no",
        TLS_DIR: DOCKER_TLS_DIR,
    };
}

/**
 * Where a swarm worker's dockerd restart takes its turn (swarm-turn-lib.sh): Consul's HTTP API as
 * the swarm hosts reach it, the swarm's KV prefix, whether a token comes on stdin, and how many
 * workers may restart at once.
 */
export interface RestartTurns {
    consul: string;
    kvPrefix: string;
    acl: boolean;
    atOnce: number;
}

/** How long a turn's holder may go without rewriting it before it counts as dead, and how often it does. */
export const TURN_TIMING = { TURN_BEAT: 5, TURN_STALE: 20, TURN_WAIT: 900, TURN_WAIT_CONSUL: 120 };

/**
 * A swarm node's dockerd restart in its turn: after the previous manager's (see DockerDaemon), or,
 * for a worker, a turn taken from Consul KV. `configRun` is the Docker step's last output: a new run
 * of that step makes this one look again.
 */
export function dockerRestartScript(family: OsFamily, opts: DockerApiOptions, configRun: string, turns?: RestartTurns): string {
    const turnVars = turns
        ? { ...TURN_TIMING, ACL: turns.acl ? "yes" : "no", CONSUL: turns.consul, KV_PREFIX: turns.kvPrefix, TURNS: turns.atOnce }
        : {};
    return renderScript(
        "docker-restart",
        { ...dockerApiVars(family, opts), ...turnVars, CONFIG_RUN: sha256(configRun ?? "").slice(0, 16) },
        ["docker-lib", "retry-lib", ...(turns ? ["swarm-lib", "swarm-turn-lib"] : [])],
    );
}

/** The Docker step's read-only drift probe (see DriftCheck). */
export function dockerDaemonDriftScript(family: OsFamily): string {
    return renderScript("docker-drift", { FILES: dockerConfigFiles(family).join(" ") }, ["docker-lib", "record-lib"]);
}

export function dockerDaemonDeleteScript(family: OsFamily, ownerId = "docker"): string {
    return renderScript(family === "rhel" ? "docker-sysconfig-restore" : "docker-daemon-json-restore", { TLS_DIR: DOCKER_TLS_DIR }, [], {
        part: "docker",
        id: ownerId,
        action: "check",
    });
}
