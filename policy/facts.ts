// What the policy pack reads: the type tokens of the stack's components and the non-secret facts
// each one registers as its inputs and its outputs (see the `facts` objects in components/*.ts).
//
// This file imports nothing, so the stack's own unit tests can import it too and check that the
// components register exactly these fields (test/unit/stack.test.ts).

export const TYPES = {
    host: "consul-swarm:host:Host",
    dockerDaemon: "consul-swarm:docker:DockerDaemon",
    consulServer: "consul-swarm:consul:ConsulServer",
    consulClient: "consul-swarm:consul:ConsulClient",
    consulCluster: "consul-swarm:consul:ConsulCluster",
    wanFederation: "consul-swarm:consul:WanFederation",
    swarm: "consul-swarm:swarm:Swarm",
    labHosts: "consul-swarm:lab:LabHosts",
    certificateAuthority: "consul-swarm:tls:CertificateAuthority",
    randomBytes: "random:index/randomBytes:RandomBytes",
    randomPassword: "random:index/randomPassword:RandomPassword",
    remoteCommand: "command:remote:Command",
    localCommand: "command:local:Command",
    copyToRemote: "command:remote:CopyToRemote",
    stack: "pulumi:pulumi:Stack",
    /** Another stack's outputs, or the stack's own from its last up: secret ones stay encrypted in state. */
    stackReference: "pulumi:pulumi:StackReference",
    /** The stack's drift checks: dynamic resources that read a host over SSH. */
    driftCheck: "pulumi-nodejs:dynamic/consul-swarm:DriftCheck",
    /** Each host's clock check: reads the host's clock over SSH at every preview. */
    hostClock: "pulumi-nodejs:dynamic/consul-swarm:HostClock",
    /** The provider of dynamic resources: the engine hands it the whole stack config as its inputs. */
    dynamicProvider: "pulumi:providers:pulumi-nodejs",
} as const;

/** The facts each component registers, by type: the policy reads these fields and no others. */
export const FACT_KEYS: Record<string, readonly string[]> = {
    [TYPES.host]: ["address", "port", "user"],
    [TYPES.dockerDaemon]: ["host", "tcpPort", "bindAddress", "tls"],
    [TYPES.consulServer]: ["nodeName", "address", "datacenter", "server", "bootstrap", "bootstrapExpect", "version", "install", "gossipEncryption", "acl", "tls"],
    [TYPES.consulClient]: ["nodeName", "address", "datacenter", "server", "bootstrap", "bootstrapExpect", "version", "install", "gossipEncryption", "acl", "tls"],
    [TYPES.consulCluster]: ["servers", "clients"],
    [TYPES.wanFederation]: ["datacenter", "primaryDatacenter", "version", "primaryVersion", "tls"],
    [TYPES.swarm]: ["managers", "agents"],
    [TYPES.labHosts]: ["subnet", "hosts"],
    [TYPES.certificateAuthority]: ["commonName", "leaves"],
};

export interface HostFacts {
    address: string;
    port: number;
    user: string;
}

export interface DockerDaemonFacts {
    /** The Host's name. */
    host: string;
    tcpPort: number;
    bindAddress: string;
    tls: boolean;
}

export interface ConsulAgentFacts {
    nodeName: string;
    address: string;
    datacenter: string;
    server: boolean;
    /** Tutorial mode: this server starts with -bootstrap. */
    bootstrap: boolean;
    /** Expect mode: bootstrap_expect (absent in tutorial mode and on clients). */
    bootstrapExpect?: number;
    version: string;
    install: { kind: "url"; url: string; sha256: string } | { kind: "file" };
    gossipEncryption: boolean;
    /** ACLs with default deny (the stack's management token). */
    acl: boolean;
    /** TLS for RPC and HTTPS from the stack's CA. */
    tls: boolean;
}

export interface ConsulClusterFacts {
    servers: string[];
    clients: string[];
}

/** A secondary datacenter's WAN join to its primary (read from the primary's stack outputs). */
export interface WanFederationFacts {
    datacenter: string;
    primaryDatacenter: string;
    version: string;
    primaryVersion: string;
    /** RPC between the datacenters is TLS from one CA. */
    tls: boolean;
}

export interface SwarmFacts {
    managers: string[];
    agents: string[];
}

export interface CertificateAuthorityFacts {
    commonName: string;
    /** The ids of the certificates it issues. */
    leaves: string[];
    /** Among its outputs only: "ca" and each leaf's id → when it stops being valid (ISO 8601). */
    expiries?: Record<string, string>;
}

export interface LabHostsFacts {
    subnet: string;
    hosts: string[];
}
