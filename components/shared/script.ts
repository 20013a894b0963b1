// How a remote script is made: its file read from a part's scripts/ folder without comments, its
// values single-quoted, its shared helpers and ownership record put in front. No resources here.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Quotes a value for POSIX sh: the only safe way a value enters a script's text. */
export function shq(value: string | number | boolean): string {
    return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

const scriptCache = new Map<string, string>();

/** The parts' folders, each with its remote scripts in scripts/: a script's name is unique across them. */
export const SCRIPT_DIRS = [
    ...["shared", "host", "docker", "consul", "swarm", "tls"].map((part) => path.join(__dirname, "..", part, "scripts")),
    // The dev stack's lab hosts (lab/hosts, outside the product), rendered the same way.
    path.join(__dirname, "..", "..", "lab", "hosts", "scripts"),
];

/** The file of a remote script, found in its part's scripts/ folder. */
export function scriptFile(name: string): string {
    const found = SCRIPT_DIRS.map((d) => path.join(d, `${name}.sh`)).filter((f) => fs.existsSync(f));
    if (found.length !== 1) {
        throw new Error(`script ${name}.sh: ${found.length === 0 ? "in no part's scripts/ folder" : `in more than one: ${found.join(", ")}`}`);
    }
    return found[0];
}

/** Reads a part's scripts/NAME.sh once per program run. */
export function loadScript(name: string): string {
    let body = scriptCache.get(name);
    if (body === undefined) {
        body = stripComments(fs.readFileSync(scriptFile(name), "utf8"));
        scriptCache.set(name, body);
    }
    return body;
}

/**
 * A script as it goes to a host: without its comment lines and blank lines. Comments say why for
 * the reader of the file; on the host they change nothing, so an edited comment is no change to
 * any step, and each script is stored in state without them. (The scripts have no here-documents
 * and no multi-line strings with lines that start with `#`: a unit test keeps it so.)
 */
export function stripComments(script: string): string {
    return script
        .split("\n")
        .filter((l) => !/^\s*(#.*)?$/.test(l))
        .join("\n")
        .concat("\n");
}

/**
 * A remote script: the named file's body behind a block of quoted variable assignments.
 * Values that are secret never go through here: they travel on stdin.
 */
/**
 * A step that owns a part of its host (see scripts/owner-lib.sh): its create claims the part, its
 * delete acts only while the part is still its own. `id` names the step (component type and name).
 */
export interface StepOwner {
    part: string;
    id: string;
    action: "claim" | "check";
}

/**
 * A step's repair count (from its part's drift check) as a script variable: a new count is a new
 * script, which makes `up` run the step again. Absent until the first repair, so a step made
 * before drift checks existed is not changed by them.
 */
export function repairVars(repairs: number | undefined): Record<string, number> {
    return repairs ? { REPAIR: repairs } : {};
}

export function renderScript(name: string, vars: Record<string, string | number | boolean>, libs: string[] = [], owner?: StepOwner): string {
    if (owner) {
        vars = { ...vars, OWNER_ID: owner.id, OWNER_PART: owner.part };
        libs = ["owner-lib", ...libs];
    }
    const header = Object.keys(vars)
        .sort()
        .map((k) => {
            if (!/^[A-Z][A-Z0-9_]*$/.test(k)) {
                throw new Error(`renderScript(${name}): bad variable name ${k}`);
            }
            return `${k}=${shq(vars[k])}`;
        })
        .join("\n");
    const parts = libs.map(loadScript);
    if (owner) {
        parts.push(`owner_${owner.action}`);
    }
    parts.push(loadScript(name));
    if (owner?.action === "check") {
        // A delete that ran to its end: the part is no longer the stack's.
        parts.push("owner_release");
    }
    const body = parts.join("\n");
    return `#!/bin/sh\n# consul-swarm: ${name}\nset -eu\n${header}\n${body}`;
}

/**
 * A script for a user other than root: run by `sudo -n` (never a password prompt, which would
 * hang the step) with its stdin, where its secrets are, passed through. RHEL's sudo drops
 * /usr/local/bin from PATH (secure_path), where the consul binary lives.
 */
export function asRootScript(script: string): string {
    return `exec sudo -n -- sh -c ${shq(`PATH=/usr/local/sbin:/usr/local/bin:$PATH; export PATH\n${script}`)}`;
}

export function sha256(data: string | Buffer): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}

/** SHA-256 of a local file, streamed so a 100 MB binary costs no memory. */
export function sha256File(file: string): string {
    // Once per file and program run: every agent asks for the binary's SHA-256 (100 MB).
    const st = fs.statSync(file);
    const key = `${file}\0${st.size}\0${st.mtimeMs}`;
    const known = fileHashes.get(key);
    if (known !== undefined) {
        return known;
    }
    const hash = crypto.createHash("sha256");
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.alloc(1 << 20);
        let n: number;
        while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
            hash.update(buf.subarray(0, n));
        }
    } finally {
        fs.closeSync(fd);
    }
    const digest = hash.digest("hex");
    fileHashes.set(key, digest);
    return digest;
}

const fileHashes = new Map<string, string>();
