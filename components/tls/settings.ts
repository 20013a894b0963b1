// The `certificates` section of the stack's config: how long the certificates the stack issues
// live, when an `up` renews them, and how far a host's clock may be off for them to work.
import { int, Problems, section, unknownKeys } from "../shared/fields";
import { DEFAULT_BACKDATE_SECONDS, DEFAULT_LEAF_VALIDITY_SECONDS, DEFAULT_RENEW_WHEN_LEFT } from "./certificateAuthority";

export interface CertificateSettings {
    /** How long an agent's, a daemon's or the Docker client's certificate lives, in seconds. */
    validitySeconds: number;
    /** An `up` renews a certificate once less than this fraction of its life is left. */
    renewWhenLeft: number;
    /** A host whose clock is further off than this from the machine running Pulumi is refused, in seconds. */
    maxClockSkewSeconds: number;
}

const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86400 };
/** Shorter, and a renewal could not finish before the certificate it replaces expires. */
const MIN_VALIDITY_SECONDS = 10 * 60;
/** The CA lives 3650 days and is renewed 30 days before its end: no leaf may outlive it by much. */
const MAX_VALIDITY_SECONDS = 1825 * 86400;
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 120;

/** "365d", "12h", "30m" → seconds; undefined for anything else. */
export function parseDuration(v: string): number | undefined {
    const m = /^(\d+)([mhd])$/.exec(v.trim());
    return m ? Number(m[1]) * UNIT_SECONDS[m[2]] : undefined;
}

export function parseCertificates(p: Problems, raw: unknown): CertificateSettings {
    const c = section(p, "certificates", raw);
    unknownKeys(p, "certificates", c, ["validity", "renewWhenLeft", "maxClockSkew"]);
    let validitySeconds = DEFAULT_LEAF_VALIDITY_SECONDS;
    if (c.validity !== undefined && c.validity !== null) {
        const parsed = typeof c.validity === "string" ? parseDuration(c.validity) : undefined;
        if (parsed === undefined || parsed < MIN_VALIDITY_SECONDS || parsed > MAX_VALIDITY_SECONDS) {
            p.error(
                "certificates.validity",
                `expected a duration from 10m to 1825d such as "365d", "12h" or "30m", got ${JSON.stringify(c.validity)}`,
                'set e.g. "365d" (the stack renews each certificate before it expires)',
            );
        } else {
            validitySeconds = parsed;
        }
    }
    let renewWhenLeft = DEFAULT_RENEW_WHEN_LEFT;
    if (c.renewWhenLeft !== undefined && c.renewWhenLeft !== null) {
        const n = typeof c.renewWhenLeft === "string" ? Number(c.renewWhenLeft) : c.renewWhenLeft;
        if (typeof n !== "number" || !(n >= 0.05 && n <= 0.9)) {
            p.error("certificates.renewWhenLeft", `expected a fraction from 0.05 to 0.9, got ${JSON.stringify(c.renewWhenLeft)}`, "set e.g. 0.33 (renew once a third of the life is left)");
        } else {
            renewWhenLeft = n;
        }
    }
    const maxClockSkewSeconds = int(p, "certificates.maxClockSkew", c.maxClockSkew, DEFAULT_MAX_CLOCK_SKEW_SECONDS, 1, DEFAULT_BACKDATE_SECONDS);
    if (validitySeconds * renewWhenLeft < 5 * 60) {
        p.error(
            "certificates.renewWhenLeft",
            `renews ${Math.round(validitySeconds * renewWhenLeft)} s before expiry, less than the 5 min an up may need to roll a renewal out`,
            "give a longer certificates.validity or a larger certificates.renewWhenLeft",
        );
    }
    return { validitySeconds, renewWhenLeft, maxClockSkewSeconds };
}
