// The hosts: each one's connection, facts and clock, after the transition is judged.
import * as pulumi from "@pulumi/pulumi";
import type { ConsulSwarmArgs } from "../consulSwarm";
import { Host } from "../host/host";

export function createHosts(args: ConsulSwarmArgs, child: pulumi.ResourceOptions, transition: pulumi.Resource): Map<string, Host> {
    return new Map(
        args.hosts.map((h) => [
            h.name,
            new Host(
                h.name,
                {
                    address: h.address,
                    port: h.ssh?.port,
                    user: h.ssh?.user,
                    waitSeconds: h.ssh?.waitSeconds,
                    privateKey: args.sshPrivateKey,
                    machineId: h.machineId,
                    maxClockSkewSeconds: args.certificates?.maxClockSkewSeconds,
                },
                { ...child, dependsOn: [...(h.dependsOn ?? []), transition] },
            ),
        ]),
    );
}
