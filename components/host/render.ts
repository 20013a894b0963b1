// What the Host part renders and parses: the facts a host reports.

export type OsFamily = "rhel" | "debian";

export interface HostFacts {
    osId: string;
    osVersion: string;
    osFamily: OsFamily;
    initSystem: string;
    hostname: string;
}

/** Parses what scripts/host-facts.sh prints (key=value lines). */
export function parseHostFacts(stdout: string): HostFacts {
    const kv = new Map<string, string>();
    for (const line of stdout.split("\n")) {
        const i = line.indexOf("=");
        if (i > 0) {
            kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
        }
    }
    const osId = kv.get("os_id") ?? "unknown";
    const like = kv.get("os_like") ?? "";
    const rhel = /(^|\s)(rhel|centos|fedora|rocky|almalinux|ol)(\s|$)/.test(`${osId} ${like}`);
    return {
        osId,
        osVersion: kv.get("os_version") ?? "",
        osFamily: rhel ? "rhel" : "debian",
        initSystem: kv.get("init") ?? "unknown",
        hostname: kv.get("hostname") ?? "",
    };
}
