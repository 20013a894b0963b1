// The README's picture of a stack's Consul UI, logged in with the stack's management token:
// headless Chromium (Debian's package) opens the UI through a proxy on loopback, which serves the
// UI and API of the stack's first server and, in the UI's page, stores the token where the UI's own
// login keeps it (localStorage "consul:token"). Run by scripts/screenshot.sh, which hands over, on
// stdin, a JSON object { api, caCert, token }: the token never reaches a command line or a file.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { AddressInfo } from "node:net";

const [out, page] = process.argv.slice(2);
const { api, caCert, token } = JSON.parse(fs.readFileSync(0, "utf8")) as { api: string; caCert: string; token: string };
const upstream = new URL(api);
const agent = new https.Agent({ ca: caCert });

function forward(req: http.IncomingMessage, res: http.ServerResponse, accessor: string) {
    const headers = { ...req.headers, host: upstream.host };
    delete headers["accept-encoding"];
    const up = https.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent }, (r) => {
        const html = (r.headers["content-type"] ?? "").startsWith("text/html");
        if (!html) {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
            return;
        }
        let body = "";
        r.setEncoding("utf8");
        r.on("data", (d) => (body += d));
        r.on("end", () => {
            const login = `<script>localStorage.setItem("consul:token", ${JSON.stringify(JSON.stringify({ AccessorID: accessor, SecretID: token, Namespace: "default" }))});</script>`;
            body = body.replace("<head>", `<head>${login}`);
            const h = { ...r.headers };
            delete h["content-length"];
            res.writeHead(r.statusCode ?? 502, h);
            res.end(body);
        });
    });
    up.on("error", (e) => {
        res.writeHead(502);
        res.end(String(e));
    });
    req.pipe(up);
}

async function main() {
    const self = await fetchJson(`${api}/v1/acl/token/self`);
    const accessor = String(self.AccessorID);
    const server = http.createServer((req, res) => forward(req, res, accessor));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    let chromiumLog = "";
    // Asynchronous: this process serves Chromium's requests meanwhile.
    const done = new Promise<number>((resolve) => {
        const c = spawn(
            "chromium",
            ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1440,900", "--virtual-time-budget=20000", `--screenshot=${out}`, `http://127.0.0.1:${port}${page}`],
            { stdio: ["ignore", "ignore", "pipe"] },
        );
        // Chromium logs much that does not matter here (no D-Bus in a container): shown on failure only.
        c.stderr.on("data", (d) => (chromiumLog += d));
        c.on("exit", (code) => resolve(code ?? 1));
    });
    const code = await done;
    server.close();
    if (code !== 0 || !fs.existsSync(out)) {
        throw new Error(`chromium exited ${code} without ${out}:\n${chromiumLog}`);
    }
}

function fetchJson(url: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
        https
            .get(url, { agent, headers: { "X-Consul-Token": token } }, (r) => {
                let b = "";
                r.on("data", (d) => (b += d));
                r.on("end", () => (r.statusCode === 200 ? resolve(JSON.parse(b)) : reject(new Error(`${url}: ${r.statusCode}`))));
            })
            .on("error", reject);
    });
}

main().catch((e) => {
    process.stderr.write(`screenshot: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
});
