// The Docker part of the stack's config.
import * as net from "net";
import { bool, int, Problems, section, str, unknownKeys } from "../shared/fields";
import type { ConsulSwarmDockerArgs } from "../consulSwarm";

/** The config file's docker section, parsed: the component's own args (ConsulSwarmDockerArgs, where each field is documented). */
export type DockerSettings = ConsulSwarmDockerArgs;

export function parseDocker(p: Problems, raw: unknown): DockerSettings {
    const d = section(p, "docker", raw);
    unknownKeys(p, "docker", d, ["tcpPort", "bindAddress", "tls", "workerRestartsAtOnce"]);
    const tls = bool(p, "docker.tls", d.tls, true);
    const docker: DockerSettings = {
        // Docker's own convention: 2376 with TLS, 2375 (the tutorial's) without.
        tcpPort: int(p, "docker.tcpPort", d.tcpPort, tls ? 2376 : 2375, 1, 65535),
        bindAddress: str(p, "docker.bindAddress", d.bindAddress, "0.0.0.0"),
        tls,
        // One at a time: each worker back in the swarm before the next goes.
        workerRestartsAtOnce: int(p, "docker.workerRestartsAtOnce", d.workerRestartsAtOnce, 1, 1, 1000),
    };
    if (net.isIP(docker.bindAddress) === 0) {
        p.error("docker.bindAddress", `"${docker.bindAddress}" is not an IP address`, 'use "0.0.0.0" (all interfaces) or one of the host\'s addresses');
    }
    if (!docker.tls && !/^127\./.test(docker.bindAddress)) {
        p.warn(
            "docker.tls",
            `the Docker API listens on plain TCP ${docker.bindAddress}:${docker.tcpPort} without TLS (the tutorial's mode): whoever reaches it is root on the host`,
            "keep it to a trusted network, or remove docker.tls: false to get TLS with client certificates on 2376",
        );
    }
    return docker;
}
