// The package's public face for other Pulumi programs: one component for the whole cluster, and
// the parts it is made of for programs that compose them differently.
export { ConsulSwarm, ConsulSwarmArgs, ConsulSwarmFederation, ConsulSwarmHost, consulSwarmArgs, federationFrom, OwnMachines } from "./consulSwarm";
export { Role, validateConfig, resolveInstall } from "./config";
export { Host, HostArgs } from "./host/host";
export { DockerDaemon, DockerDaemonArgs } from "./docker/dockerDaemon";
export { ConsulServer, ConsulClient } from "./consul/consulAgent";
export { ConsulCluster } from "./consul/consulCluster";
export { UpgradeSnapshot } from "./consul/consulSnapshot";
export { Swarm, SwarmArgs } from "./swarm/swarm";
export { CertificateAuthority } from "./tls/certificateAuthority";
export { DriftCheck } from "./shared/driftCheck";
