/**
 * A picture of an `up`: one bar per resource step over time, the critical path marked, as SVG.
 *
 *   PULUMI_DEBUG_COMMANDS=true npm run pulumi -- up --stack dev --event-log /tmp/up.jsonl
 *   npm run -s pulumi -- stack export --stack dev > /tmp/state.json
 *   node --import tsx bench/timeline.ts /tmp/up.jsonl /tmp/state.json > up.svg
 *
 * The engine's events carry whole seconds, so a bar is accurate to a second. The state export
 * gives each resource's dependencies (the events do not): the critical path is the chain, ending
 * at the step that finished last, in which each step waited on the dependency that finished last.
 */
import * as fs from "fs";

interface Step {
    urn: string;
    name: string;
    type: string;
    op: string;
    start: number;
    end: number;
    /** The engine's event sequence numbers: they order what whole seconds cannot. */
    startSeq: number;
    endSeq: number;
    failed: boolean;
}

interface EngineEvent {
    sequence: number;
    timestamp: number;
    resourcePreEvent?: { metadata: StepMetadata };
    resOutputsEvent?: { metadata: StepMetadata };
    resOpFailedEvent?: { metadata: StepMetadata };
}

interface StepMetadata {
    op: string;
    urn: string;
    type: string;
    new?: { custom?: boolean };
    old?: { custom?: boolean };
}

/** The steps that did work on a resource (not `same`, not components or providers). */
export function stepsOf(events: EngineEvent[]): Step[] {
    const steps = new Map<string, Step>();
    for (const e of events) {
        const pre = e.resourcePreEvent?.metadata;
        if (pre && pre.op !== "same" && pre.op !== "read" && (pre.new?.custom ?? pre.old?.custom) && !pre.type.startsWith("pulumi:providers:")) {
            const key = `${pre.urn}#${pre.op}`;
            steps.set(key, { urn: pre.urn, name: pre.urn.split("::").pop()!, type: pre.type, op: pre.op, start: e.timestamp, end: e.timestamp, startSeq: e.sequence, endSeq: e.sequence, failed: false });
        }
        const done = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
        const step = done && steps.get(`${done.urn}#${done.op}`);
        if (step) {
            step.end = e.timestamp;
            step.endSeq = e.sequence;
            step.failed = e.resOpFailedEvent !== undefined;
        }
    }
    return [...steps.values()].sort((a, b) => a.startSeq - b.startSeq);
}

interface Graph {
    /** URN → what it waits on: its dependencies and its parent. */
    deps: Map<string, string[]>;
    /** URN → the resources whose parent it is. */
    children: Map<string, string[]>;
}

/** The dependency graph of a `pulumi stack export`. */
export function graphOf(state: { deployment?: { resources?: { urn: string; dependencies?: string[]; parent?: string }[] } }): Graph {
    const deps = new Map<string, string[]>();
    const children = new Map<string, string[]>();
    for (const r of state.deployment?.resources ?? []) {
        deps.set(r.urn, [...(r.dependencies ?? []), ...(r.parent ? [r.parent] : [])]);
        if (r.parent) {
            children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
        }
    }
    return { deps, children };
}

/**
 * The critical path: from the step that finished last, back through the dependency (a step, or a
 * component whose children are steps) that finished last before it started.
 */
export function criticalPath(steps: Step[], { deps, children }: Graph): Set<Step> {
    const byUrn = new Map<string, Step[]>();
    for (const s of steps) {
        byUrn.set(s.urn, [...(byUrn.get(s.urn) ?? []), s]);
    }
    // A component stands for its children: waiting on it is waiting on them.
    const stepsUnder = (urn: string, seen = new Set<string>()): Step[] => {
        if (seen.has(urn)) {
            return [];
        }
        seen.add(urn);
        return [...(byUrn.get(urn) ?? []), ...(byUrn.has(urn) ? [] : (children.get(urn) ?? []).flatMap((c) => stepsUnder(c, seen)))];
    };
    const path = new Set<Step>();
    let current = [...steps].sort((a, b) => b.endSeq - a.endSeq)[0];
    while (current && !path.has(current)) {
        path.add(current);
        const cur = current;
        const before = (deps.get(cur.urn) ?? []).flatMap((u) => stepsUnder(u)).filter((s) => s !== cur && s.endSeq < cur.startSeq);
        current = before.sort((a, b) => b.endSeq - a.endSeq)[0];
    }
    return path;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderSvg(steps: Step[], critical: Set<Step>, title: string): string {
    const t0 = Math.min(...steps.map((s) => s.start));
    const t1 = Math.max(...steps.map((s) => s.end), t0 + 1);
    const label = 300;
    const width = 1100;
    const row = 14;
    const top = 44;
    const plot = width - label - 20;
    const x = (t: number) => label + ((t - t0) / (t1 - t0)) * plot;
    const height = top + steps.length * row + 30;
    const out: string[] = [];
    out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`);
    out.push(`<rect width="100%" height="100%" fill="white"/>`);
    out.push(`<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`);
    out.push(
        `<text x="10" y="34" fill="#555">${steps.length} steps over ${t1 - t0} s; critical path (red): ${critical.size} steps; grey: off the critical path; whole seconds</text>`,
    );
    const tick = t1 - t0 > 60 ? 10 : 5;
    for (let t = 0; t <= t1 - t0; t += tick) {
        out.push(`<line x1="${x(t0 + t)}" y1="${top - 4}" x2="${x(t0 + t)}" y2="${height - 26}" stroke="#eee"/>`);
        out.push(`<text x="${x(t0 + t)}" y="${height - 12}" text-anchor="middle" fill="#555">${t}s</text>`);
    }
    steps.forEach((s, i) => {
        const y = top + i * row;
        const w = Math.max(x(s.end) - x(s.start), 2);
        const fill = s.failed ? "#d08000" : critical.has(s) ? "#c0392b" : "#9aa5b1";
        out.push(`<text x="${label - 6}" y="${y + 10}" text-anchor="end">${esc(`${s.name} ${s.op}`)}</text>`);
        out.push(`<rect x="${x(s.start)}" y="${y + 2}" width="${w}" height="${row - 4}" fill="${fill}"><title>${esc(`${s.type} ${s.name}: ${s.op}, ${s.end - s.start} s`)}</title></rect>`);
    });
    out.push("</svg>");
    return out.join("\n") + "\n";
}

if (require.main === module) {
    const [eventLog, stateFile, title] = process.argv.slice(2);
    if (!eventLog) {
        console.error("usage: node --import tsx bench/timeline.ts EVENT_LOG [STATE_EXPORT] [TITLE] > up.svg");
        process.exit(2);
    }
    const events = fs
        .readFileSync(eventLog, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as EngineEvent);
    const steps = stepsOf(events);
    if (steps.length === 0) {
        console.error(`timeline: ${eventLog} has no resource steps (a no-op up?)`);
        process.exit(1);
    }
    const graph = stateFile ? graphOf(JSON.parse(fs.readFileSync(stateFile, "utf8"))) : { deps: new Map(), children: new Map() };
    const critical = criticalPath(steps, graph);
    process.stdout.write(renderSvg(steps, critical, title ?? "pulumi up"));
    const summary = [...critical].sort((a, b) => a.startSeq - b.startSeq).map((s) => `${s.name} (${s.end - s.start}s)`);
    console.error(`timeline: ${steps.length} steps, ${Math.max(...steps.map((s) => s.end)) - Math.min(...steps.map((s) => s.start))} s; critical path: ${summary.join(" → ")}`);
}
