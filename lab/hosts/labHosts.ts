import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as fs from "fs";
import * as path from "path";
import { StackSettings } from "../../components/config";
import { cidrGateway } from "../settings";
import { renderScript, sha256 } from "../../components/shared/script";
import { sshKeyPairFromSeed } from "./sshKey";

const REPO = path.resolve(__dirname, "..", "..");
const IMAGE_DIR = path.join(REPO, "lab", "image");

export interface LabHostSpec {
    name: string;
    address: string;
}

export interface LabHostsArgs {
    hosts: LabHostSpec[];
    subnet: string;
    networkName: string;
    /** Other labs' subnets this lab's hosts reach by their own addresses (another datacenter's lab). */
    routeTo?: string[];
}

/** Capabilities a lab host gets instead of --privileged (which this machine refuses). */
export function labCapabilities(): string[] {
    return (JSON.parse(fs.readFileSync(path.join(REPO, "lab", "capabilities.json"), "utf8")) as { add: string[] }).add;
}

/** A hash of the image recipe: a changed recipe rebuilds the image. */
export function labRecipeHash(): string {
    const files: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) {
                walk(p);
            } else {
                files.push(p);
            }
        }
    };
    walk(IMAGE_DIR);
    return sha256(files.map((f) => `${path.relative(IMAGE_DIR, f)}\0${fs.readFileSync(f, "utf8")}`).join("\0"));
}

/**
 * The dev stack's own hosts on this machine: containers that run systemd, sshd and their own
 * dockerd on a Docker network with its own subnet, reached over SSH with a key the stack makes.
 * The rest of the stack sees only addresses and a key, exactly as for real hosts.
 */
export class LabHosts extends pulumi.ComponentResource {
    static readonly type = "consul-swarm:lab:LabHosts";

    readonly network: docker.Network;
    readonly containers: Record<string, docker.Container>;
    /** The SSH private key (PEM) that logs in as root on every lab host. */
    readonly privateKey: pulumi.Output<string>;
    readonly publicKey: pulumi.Output<string>;
    readonly image: pulumi.Output<string>;

    constructor(name: string, args: LabHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        // Marks the stack as a lab for the policy pack (the lab runs tutorial-mode defaults).
        const facts = { subnet: args.subnet, hosts: args.hosts.map((h) => h.name) };
        super(LabHosts.type, name, facts, opts);
        const seed = new random.RandomBytes(`${name}-ssh-seed`, { length: 32 }, { parent: this });
        const keys = seed.base64.apply((b64) => sshKeyPairFromSeed(b64));
        this.privateKey = pulumi.secret(keys.apply((k) => k.privateKeyPem));
        // A public key is public: it may show in plans and state.
        this.publicKey = pulumi.unsecret(keys.apply((k) => k.publicKeyOpenSsh));

        // Relative to the project directory (the program's working directory, where the command
        // provider runs local commands): the same recipe in another checkout is the same step, and
        // a program elsewhere in the repository (a test's prepared hosts) finds it too.
        const buildImage = `bash ${path.relative(process.cwd(), path.join(IMAGE_DIR, "build.sh"))}`;
        const imageBuild = new command.local.Command(
            `${name}-image`,
            {
                create: buildImage,
                update: buildImage,
                // A changed recipe builds a new image; the same recipe reuses the cached one.
                triggers: [labRecipeHash()],
            },
            { parent: this },
        );
        this.image = imageBuild.stdout.apply((out) => out.trim().split("\n").pop() ?? "");

        this.network = new docker.Network(
            `${name}-network`,
            {
                name: args.networkName,
                driver: "bridge",
                ipamConfigs: [{ subnet: args.subnet, gateway: cidrGateway(args.subnet) }],
            },
            { parent: this },
        );
        const routeTo = [...(args.routeTo ?? [])].sort();
        if (routeTo.length > 0) {
            const routes = (action: "add" | "remove") => renderScript("lab-routes", { ACTION: action, PEERS: routeTo.join(" "), SUBNET: args.subnet });
            new command.local.Command(
                `${name}-routes`,
                { create: routes("add"), delete: routes("remove"), triggers: [routeTo, args.subnet] },
                { parent: this, dependsOn: [this.network] },
            );
        }
        const caps = labCapabilities();
        this.containers = {};
        for (const h of args.hosts) {
            // A lab host is known by its address, as a real machine is: renaming it in the config
            // is no new machine. The aliases keep stacks made when names keyed it.
            const slot = `${name}-host-${h.address.replace(/\./g, "-")}`;
            const dockerData = new docker.Volume(
                `${slot}-docker`,
                { name: `${args.networkName}-${h.name}-docker` },
                { parent: this, deleteBeforeReplace: true, aliases: [{ name: `${name}-${h.name}-docker` }], ignoreChanges: ["name"] },
            );
            this.containers[h.name] = new docker.Container(
                slot,
                {
                    name: `${args.networkName}-${h.name}`,
                    hostname: h.name,
                    image: this.image,
                    networksAdvanced: [{ name: this.network.name, ipv4Address: h.address }],
                    capabilities: { adds: caps },
                    securityOpts: ["seccomp=unconfined", "apparmor=unconfined"],
                    tmpfs: { "/run": "rw,exec", "/run/lock": "rw" },
                    volumes: [
                        { hostPath: "/sys/fs/cgroup", containerPath: "/sys/fs/cgroup" },
                        // overlay2 inside the host needs a real filesystem under /var/lib/docker.
                        { volumeName: dockerData.name, containerPath: "/var/lib/docker" },
                    ],
                    cgroupnsMode: "host",
                    envs: [pulumi.interpolate`LAB_AUTHORIZED_KEYS=${this.publicKey}`],
                    restart: "unless-stopped",
                    // systemd as PID 1 shuts down cleanly on this signal (in 0.3 s, not a 10 s kill).
                    stopSignal: "SIGRTMIN+3",
                    mustRun: true,
                },
                // The name and the address are fixed: the old host must go before its successor starts.
                // Renaming a host keeps its machine, as it would a real one: the container keeps the
                // name and hostname it was made with.
                { parent: this, deleteBeforeReplace: true, aliases: [{ name: `${name}-${h.name}` }], ignoreChanges: ["name", "hostname"] },
            );
        }
        this.registerOutputs({ ...facts, image: this.image, publicKey: this.publicKey });
    }
}

/** The stack's lab hosts, when its config asks for them. */
export function labFor(settings: StackSettings): LabHosts | undefined {
    return settings.lab ? new LabHosts("lab", { hosts: settings.hosts, subnet: settings.lab.subnet, networkName: settings.lab.networkName, routeTo: settings.lab.routeTo }) : undefined;
}
