// Another stack's view of a consul-swarm cluster: what an application stack needs to register
// services in Consul and to deploy onto the swarm, read through a StackReference.
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const cluster = new pulumi.StackReference(config.require("source"));

export const consulHttpAddr = cluster.requireOutput("consulHttpAddr");
export const consulUiUrl = cluster.requireOutput("consulUiUrl");
export const consulLeader = cluster.requireOutput("consulLeader");
export const datacenter = cluster.requireOutput("datacenter");
/** DOCKER_HOST for `docker stack deploy` against the swarm. */
export const dockerHost = cluster.requireOutput("swarmManager");
export const serverCount = cluster.requireOutput("consulServers").apply((s) => Object.keys(s as object).length);
