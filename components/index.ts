// The package's public face for other Pulumi programs: one component for the whole cluster, and
// the parts it is made of for programs that compose them differently.
export { ConsulSwarm, ConsulSwarmArgs, ConsulSwarmHost, consulSwarmArgs, labFor } from "./consulSwarm";
export { Role, validateConfig, resolveInstall } from "./config";
export { Host, HostArgs } from "./host";
export { DockerDaemon, DockerDaemonArgs } from "./dockerDaemon";
export { ConsulServer, ConsulClient } from "./consulAgent";
export { ConsulCluster } from "./consulCluster";
export { Swarm, SwarmArgs } from "./swarm";
export { CertificateAuthority } from "./certificateAuthority";
export { DriftCheck } from "./driftCheck";
export { LabHosts } from "./labHosts";
