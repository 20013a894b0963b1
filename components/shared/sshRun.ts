// One script run over SSH from inside a dynamic provider (the drift checks, the clock check): the
// engine runs their providers' serialized code, so this module is captured with them.

/** Where a script runs: the host's connection as the steps use it. */
export interface SshTarget {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
}

export interface SshRun {
    stdout: string;
    /** When the script was handed to the host and when it ended (ms since the epoch, this machine's clock). */
    startedMs: number;
    endedMs: number;
}

const SSH_READY_TIMEOUT_MS = 10_000;

/**
 * Runs `script` on the host through `sh -s` (through `sudo -n sh -s` for `asRoot` when the user is
 * not root, as the steps do). The script goes on stdin: nothing of it shows on a command line or
 * in a log. Fails on a non-zero exit with the last lines of its stderr.
 */
export function runOverSsh(conn: SshTarget, script: string, opts: { asRoot: boolean; timeoutMs: number; readyTimeoutMs?: number }): Promise<SshRun> {
    // Loaded here, not at the top: the engine's provider process runs this function's serialized
    // text, which must name its modules itself.
    const { Client } = require("ssh2") as typeof import("ssh2");
    const user = conn.user ?? "root";
    return new Promise<SshRun>((resolve, reject) => {
        const client = new Client();
        const timer = setTimeout(() => {
            client.end();
            reject(new Error(`the script over SSH did not finish within ${opts.timeoutMs / 1000} s`));
        }, opts.timeoutMs);
        const fail = (err: Error) => {
            clearTimeout(timer);
            client.end();
            reject(err);
        };
        client
            .on("ready", () => {
                const startedMs = Date.now();
                client.exec(opts.asRoot && user !== "root" ? "sudo -n sh -s" : "sh -s", (err, stream) => {
                    if (err) {
                        fail(err);
                        return;
                    }
                    let out = "";
                    let errOut = "";
                    stream.on("data", (d: Buffer) => (out += d.toString()));
                    stream.stderr.on("data", (d: Buffer) => (errOut += d.toString()));
                    stream.on("close", (code: number | null) => {
                        const endedMs = Date.now();
                        clearTimeout(timer);
                        client.end();
                        if (code === 0) {
                            resolve({ stdout: out, startedMs, endedMs });
                        } else {
                            reject(new Error(`exited with ${code}: ${errOut.trim().split("\n").slice(-3).join(" / ")}`));
                        }
                    });
                    stream.end(script);
                });
            })
            .on("error", fail)
            .connect({ host: conn.host, port: conn.port ?? 22, username: user, privateKey: conn.privateKey, readyTimeout: opts.readyTimeoutMs ?? SSH_READY_TIMEOUT_MS });
    });
}

/**
 * `attempt` up to `attempts` times, waiting 1 s, 2 s, … between tries (a host still booting or
 * busy); the last error is what the caller sees.
 */
export async function withRetries<T>(attempts: number, attempt: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let n = 1; n <= attempts; n++) {
        try {
            return await attempt();
        } catch (err) {
            last = err;
            if (n < attempts) {
                await new Promise((r) => setTimeout(r, 1000 * n));
            }
        }
    }
    throw last;
}

/** Whether two connections reach the same host as the same user with the same key. */
export function sameTarget(a: SshTarget | undefined, b: SshTarget | undefined): boolean {
    return (["host", "port", "user", "privateKey"] as const).every((k) => a?.[k] === b?.[k]);
}
