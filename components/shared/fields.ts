// Reading one setting of the stack's config: each reader records a problem that names the field
// and the fix, and returns the default so the rest of the config is still checked.
import * as pulumi from "@pulumi/pulumi";

export function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every problem of a config, collected so all are reported at once. */
export class Problems {
    readonly errors: string[] = [];
    readonly warnings: string[] = [];
    error(field: string, problem: string, fix: string): void {
        this.errors.push(`${field}: ${problem}; ${fix}`);
    }
    warn(field: string, problem: string, fix: string): void {
        this.warnings.push(`${field}: ${problem}; ${fix}`);
    }
}

export function str(p: Problems, field: string, v: unknown, def: string): string {
    if (v === undefined || v === null) {
        return def;
    }
    if (typeof v !== "string" || v === "") {
        p.error(field, `expected a non-empty string, got ${JSON.stringify(v)}`, `set it to a string such as "${def}"`);
        return def;
    }
    return v;
}

export function int(p: Problems, field: string, v: unknown, def: number, min: number, max: number): number {
    if (v === undefined || v === null) {
        return def;
    }
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
        p.error(field, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`, `set it to e.g. ${def}`);
        return def;
    }
    return n;
}

export function bool(p: Problems, field: string, v: unknown, def: boolean): boolean {
    if (v === undefined || v === null) {
        return def;
    }
    if (typeof v === "boolean") {
        return v;
    }
    if (v === "true" || v === "false") {
        return v === "true";
    }
    p.error(field, `expected true or false, got ${JSON.stringify(v)}`, `set it to true or false`);
    return def;
}

export function section(p: Problems, field: string, v: unknown): Record<string, unknown> {
    if (v === undefined || v === null) {
        return {};
    }
    if (!isObject(v)) {
        p.error(field, `expected a map of settings, got ${JSON.stringify(v)}`, `write it as a YAML map`);
        return {};
    }
    return v;
}

export function unknownKeys(p: Problems, field: string, v: Record<string, unknown>, known: string[]): void {
    for (const k of Object.keys(v)) {
        if (!known.includes(k)) {
            p.error(`${field}.${k}`, `unknown setting`, `use one of ${known.join(", ")}`);
        }
    }
}

/**
 * Every problem of a stack's config at once. A RunError, so Pulumi prints the message alone (no
 * program stack trace) and stops before any resource is registered.
 */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `consul-swarm: the stack config has ${problems.length} problem(s); nothing was changed on any host:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}
