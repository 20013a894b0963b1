// A setting switched on a running cluster in stages, one per `up`, each rolled through every agent
// so that no agent ever meets one it cannot work with (Consul TLS, Consul ACLs). The stack records
// the stage it applied in its own outputs and takes the next one at the next `up`. Pure.

/** One switch: its field, its stages (0 is off, `on` the last), and what every agent does at each. */
export interface StagedSwitch {
    /** The config field, as the user writes it. */
    field: string;
    /** The stage the setting on ends at. */
    on: number;
    /** What every agent does at each stage, 0 to `on`. */
    what: string[];
    /** Whose path this is, and why it goes in stages. */
    why: string;
}

/** A switch whose stages are described in order, off first: its last stage is the setting on. */
export function stagedSwitch(field: string, why: string, what: string[]): StagedSwitch {
    return { field, why, what, on: what.length - 1 };
}

/** The stage an `up` applies: one step from the applied one towards the target; a new cluster starts at the target. */
export function stepToward(applied: number | undefined, target: number): number {
    if (applied === undefined || applied === target) {
        return target;
    }
    return applied < target ? applied + 1 : applied - 1;
}

/** What a preview and an up say while a switch is under way; undefined when there is none. */
export function stageNotice(s: StagedSwitch, applied: number | undefined, next: number, value: boolean): string | undefined {
    const target = value ? s.on : 0;
    if (applied === undefined || applied === target) {
        return undefined;
    }
    const step = value ? next : s.on - next;
    const left = Math.abs(target - next);
    return (
        `${s.field} ${!value} → ${value} on a running cluster goes in ${s.on} rolling stages, one per up (${s.why}). ` +
        `This up applies stage ${step} of ${s.on}: ${s.what[next]}. ` +
        (left === 0 ? "It is the last: the next up changes nothing." : `Then run \`pulumi up\` again (${left} more; next: ${s.what[next + (value ? 1 : -1)]}).`)
    );
}
