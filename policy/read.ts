// Reading resource properties without tripping over values that are unknown during preview.
//
// @pulumi/policy hands a policy its properties behind a proxy that throws UnknownValueError on the
// first read of a value the engine does not know yet (an output of a resource that is still to be
// created). Left alone, that error aborts the whole policy with an advisory "can't run during
// preview". The rules here instead copy properties into plain data with `plain`, where an unknown
// value becomes the UNKNOWN marker; each rule then decides what an unknown means (almost always:
// "cannot judge this yet", and `pulumi up` judges it again once it is known).
import { PolicyResource, UnknownValueError } from "@pulumi/policy";

/** A value the engine does not know during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

export function isUnknown(v: unknown): v is Unknown {
    return v === UNKNOWN;
}

/** `obj[key]`, with UNKNOWN for a value that is unknown during preview. */
export function get(obj: unknown, key: string | number): unknown {
    if (obj === null || typeof obj !== "object") {
        return undefined;
    }
    try {
        return (obj as Record<string | number, unknown>)[key];
    } catch (e) {
        if (e instanceof UnknownValueError) {
            return UNKNOWN;
        }
        throw e;
    }
}

/** A deep plain copy of a property value, every unknown part replaced by UNKNOWN. */
export function plain(v: unknown): unknown {
    if (v === null || typeof v !== "object") {
        return v;
    }
    if (Array.isArray(v)) {
        const out: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
            out.push(plain(get(v, i)));
        }
        return out;
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
        out[k] = plain(get(v, k));
    }
    return out;
}

/** A resource's properties as plain data (see `plain`). */
export function propsOf(r: { props: Record<string, unknown> }): Record<string, unknown> {
    const p = plain(r.props);
    return p !== null && typeof p === "object" && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** True when v, or anything inside it, is unknown. */
export function hasUnknown(v: unknown): boolean {
    if (isUnknown(v)) {
        return true;
    }
    if (v !== null && typeof v === "object") {
        return Object.values(v as object).some(hasUnknown);
    }
    return false;
}

export function str(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

export function strings(v: unknown): string[] {
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** The stack name in a URN: urn:pulumi:<stack>::<project>::<type>::<name>. */
export function stackOfUrn(urn: string): string | undefined {
    const m = /^urn:pulumi:([^:]+)::/.exec(urn);
    return m ? m[1] : undefined;
}

export function ofType(resources: PolicyResource[], ...types: string[]): PolicyResource[] {
    return resources.filter((r) => types.includes(r.type));
}

/** Groups items by a key, keeping the order in which keys first appear. */
export function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
    const m = new Map<string, T[]>();
    for (const t of items) {
        const k = key(t);
        m.set(k, [...(m.get(k) ?? []), t]);
    }
    return m;
}

/** "a, b and c" */
export function list(names: string[]): string {
    return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
