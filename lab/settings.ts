// The lab's part of the stack's config (dev stacks only), and the IPv4 arithmetic it needs.
import * as net from "net";
import { Problems, section, str, unknownKeys } from "../components/shared/fields";

export interface LabSettings {
    subnet: string;
    networkName: string;
    /** Other lab networks' subnets this one routes to, without NAT (a second datacenter's lab). */
    routeTo: string[];
}

/** A secondary datacenter: joined over WAN to the one another stack runs. */
export function ipv4ToInt(ip: string): number {
    return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Parses "a.b.c.d/n" (IPv4 only: the lab network is IPv4). */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
    if (!m || net.isIPv4(m[1]) === false) {
        return undefined;
    }
    const prefix = Number(m[2]);
    if (prefix < 8 || prefix > 30) {
        return undefined;
    }
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return { base: (ipv4ToInt(m[1]) & mask) >>> 0, prefix };
}

export function cidrContains(cidr: string, ip: string): boolean {
    const c = parseCidr(cidr);
    if (!c || !net.isIPv4(ip)) {
        return false;
    }
    const mask = (0xffffffff << (32 - c.prefix)) >>> 0;
    return ((ipv4ToInt(ip) & mask) >>> 0) === c.base;
}

/** The gateway Docker gives a network: the first address of the subnet. */
export function cidrGateway(cidr: string): string {
    const c = parseCidr(cidr);
    if (!c) {
        throw new Error(`not an IPv4 CIDR: ${cidr}`);
    }
    const g = c.base + 1;
    return [24, 16, 8, 0].map((s) => (g >>> s) & 255).join(".");
}

/** The lab section, when the config has one. */
export function parseLab(p: Problems, raw: unknown): LabSettings | undefined {
    const labRaw = raw === undefined || raw === null ? undefined : section(p, "lab", raw);
    let lab: LabSettings | undefined;
    if (labRaw) {
        unknownKeys(p, "lab", labRaw, ["subnet", "networkName", "routeTo"]);
        const subnet = str(p, "lab.subnet", labRaw.subnet, "10.213.0.0/24");
        if (!parseCidr(subnet)) {
            p.error("lab.subnet", `"${subnet}" is not an IPv4 CIDR with a /8 to /30 prefix`, 'set e.g. "10.213.0.0/24"');
        }
        const routeTo: string[] = [];
        if (labRaw.routeTo !== undefined && !Array.isArray(labRaw.routeTo)) {
            p.error("lab.routeTo", `expected a list of subnets, got ${JSON.stringify(labRaw.routeTo)}`, 'write e.g. ["10.214.0.0/24"] (the other lab\'s lab.subnet)');
        }
        (Array.isArray(labRaw.routeTo) ? labRaw.routeTo : []).forEach((r, i) => {
            if (typeof r !== "string" || !parseCidr(r)) {
                p.error(`lab.routeTo[${i}]`, `${JSON.stringify(r)} is not an IPv4 CIDR with a /8 to /30 prefix`, "give the other lab's lab.subnet");
            } else if (r === subnet) {
                p.error(`lab.routeTo[${i}]`, `${r} is this lab's own subnet`, "list only other labs' subnets");
            } else {
                routeTo.push(r);
            }
        });
        lab = { subnet, networkName: str(p, "lab.networkName", labRaw.networkName, "consul-swarm-lab"), routeTo };
    }
    return lab;
}
