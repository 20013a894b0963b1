import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { criticalPath, graphOf, renderSvg, stepsOf } from "../../bench/timeline";

const urn = (name: string, type = "command:remote:Command") => `urn:pulumi:dev::consul-swarm::${type}::${name}`;
let seq = 0;
const pre = (t: number, name: string, op = "create", custom = true) => ({
    sequence: seq++,
    timestamp: t,
    resourcePreEvent: { metadata: { op, urn: urn(name), type: "command:remote:Command", new: { custom } } },
});
const done = (t: number, name: string, op = "create") => ({
    sequence: seq++,
    timestamp: t,
    resOutputsEvent: { metadata: { op, urn: urn(name), type: "command:remote:Command" } },
});

describe("the picture of an up", () => {
    // a → b → d is the long chain; c runs beside it and finishes early.
    const events = [pre(0, "a"), pre(0, "c"), done(2, "c"), done(3, "a"), pre(3, "b"), done(9, "b"), pre(9, "d"), done(10, "d"), pre(0, "same", "same"), done(0, "same", "same")];
    const state = {
        deployment: {
            resources: [
                { urn: urn("a") },
                { urn: urn("b"), dependencies: [urn("a")] },
                { urn: urn("c") },
                { urn: urn("d"), dependencies: [urn("b"), urn("c")] },
            ],
        },
    };
    it("has one bar per step that did work, in order, timed from the events", () => {
        const steps = stepsOf(events);
        assert.deepEqual(
            steps.map((s) => `${s.name}:${s.start}-${s.end}`),
            ["a:0-3", "c:0-2", "b:3-9", "d:9-10"],
        );
    });
    it("marks the chain that set the end: each step's latest dependency before it", () => {
        const steps = stepsOf(events);
        const path = criticalPath(steps, graphOf(state));
        assert.deepEqual([...path].map((s) => s.name).sort(), ["a", "b", "d"]);
        const svg = renderSvg(steps, path, "test");
        assert.equal((svg.match(/fill="#c0392b"/g) ?? []).length, 3, "three red bars");
        assert.match(svg, /c create/);
    });
});
