// A node:test reporter beside `spec`: at the end of a run, the wall time of every test file, of
// every test in it, and of its hooks (the file's time less its tests': `before` and `after`, where
// the e2e files make and destroy their clusters), as one table; and the same as JSON when
// E2E_TIMINGS_JSON names a file. What it reads is node's own per-test durations.
import * as fs from "node:fs";
import * as path from "node:path";

const seconds = (ms) => (ms / 1000).toFixed(1);

export default async function* timings(source) {
    const started = Date.now();
    const files = new Map();
    const fileOf = (file) => {
        const key = file ? path.relative(process.cwd(), file) : "(unknown)";
        if (!files.has(key)) {
            files.set(key, { file: key, ms: 0, tests: [], failed: 0 });
        }
        return files.get(key);
    };
    for await (const event of source) {
        if (event.type !== "test:pass" && event.type !== "test:fail") {
            continue;
        }
        const d = event.data;
        const f = fileOf(d.file);
        const ms = d.details?.duration_ms ?? 0;
        if (d.nesting === 0) {
            // A file's top-level suites and tests, hooks included: their sum is the file's time.
            f.ms += ms;
        }
        if (d.details?.type !== "suite") {
            f.tests.push({ name: d.name, ms, ok: event.type === "test:pass" });
        }
        if (event.type === "test:fail") {
            f.failed++;
        }
    }
    const rows = [...files.values()].map((f) => ({
        ...f,
        testsMs: f.tests.reduce((a, t) => a + t.ms, 0),
    }));
    let out = "\n# Wall time per file, test and hooks (hooks: before and after, the file's time less its tests')\n\n";
    out += "| file / test | s |\n| --- | ---: |\n";
    let total = 0;
    for (const f of rows) {
        total += f.ms;
        out += `| **${f.file}** | **${seconds(f.ms)}** |\n`;
        out += `| &nbsp;&nbsp;hooks (before, after) | ${seconds(Math.max(0, f.ms - f.testsMs))} |\n`;
        for (const t of f.tests) {
            out += `| &nbsp;&nbsp;${t.ok ? "" : "FAILED "}${t.name.replace(/\|/g, "\\|")} | ${seconds(t.ms)} |\n`;
        }
    }
    const wall = Date.now() - started;
    out += `| **all files, added** | **${seconds(total)}** |\n`;
    out += `| **the run, wall time** | **${seconds(wall)}** |\n`;
    yield out;
    if (process.env.E2E_TIMINGS_JSON) {
        const json = rows.map((f) => ({ file: f.file, seconds: +seconds(f.ms), hooksSeconds: +seconds(Math.max(0, f.ms - f.testsMs)), tests: f.tests.map((t) => ({ name: t.name, seconds: +seconds(t.ms), ok: t.ok })) }));
        fs.writeFileSync(process.env.E2E_TIMINGS_JSON, JSON.stringify({ date: new Date().toISOString(), wallSeconds: +seconds(wall), filesSeconds: +seconds(total), files: json }, null, 2) + "\n");
    }
}
