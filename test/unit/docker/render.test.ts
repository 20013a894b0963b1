// The DockerDaemon part's renderers and its scripts' decisions, run against stand-in commands.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { dockerDaemonJson, dockerDaemonScript, dockerSysconfigFlags } from "../../../components/docker/render";
import { loadScript } from "../../../components/shared/script";

/** Runs a script under sh with a fake PATH-free environment and returns what it prints. */
function sh(script: string, input?: string): string {
    return execFileSync("sh", ["-c", script], { input, encoding: "utf8" });
}

describe("Docker daemon config", () => {
    it("Debian: daemon.json hosts (unix socket kept) and a drop-in that drops -H fd://", () => {
        assert.equal(
            dockerDaemonJson({ tcpPort: 2375, bindAddress: "0.0.0.0", tls: false }),
            '{\n  "hosts": [\n    "unix:///var/run/docker.sock",\n    "tcp://0.0.0.0:2375"\n  ]\n}\n',
        );
        const s = dockerDaemonScript("debian", { tcpPort: 2375, bindAddress: "0.0.0.0", tls: false });
        assert.match(s, /DROPIN='\[Service\]\nExecStart=\nExecStart=@DOCKERD@ \$DOCKER_OPTS\n'/);
        assert.match(s, /PING_ADDR='127.0.0.1'/);
        assert.match(s, /jq -s '\.\[0\] \* \.\[1\]'/, "merges into the user's daemon.json instead of overwriting it");
        assert.match(s, /\ndocker_config_daemon_json\n/);
        assert.doesNotMatch(s, /\n *docker_config_sysconfig\n/, "a Debian host never takes the sysconfig path");
    });
    it("CentOS 7: the tutorial's flags in /etc/sysconfig/docker OPTIONS", () => {
        assert.equal(dockerSysconfigFlags({ tcpPort: 2375, bindAddress: "0.0.0.0", tls: false }), "-H unix:///var/run/docker.sock -H tcp://0.0.0.0:2375");
        const s = dockerDaemonScript("rhel", { tcpPort: 2376, bindAddress: "10.0.0.5", tls: false });
        assert.match(s, /FLAGS='-H unix:\/\/\/var\/run\/docker.sock -H tcp:\/\/10.0.0.5:2376'/);
        assert.match(s, /PING_ADDR='10.0.0.5'/);
        assert.match(s, /CONF=\/etc\/sysconfig\/docker/);
        assert.match(s, /\nif docker_reads_sysconfig; then\n  docker_config_sysconfig\nelse\n  docker_config_daemon_json\nfi\n/, "the host's unit decides");
    });
    it("the Debian script merges, writes only what differs and restores on the first backup", () => {
        const s = dockerDaemonScript("debian", { tcpPort: 2375, bindAddress: "0.0.0.0", tls: false });
        assert.match(s, /cmp -s "\$tmp\/daemon.json" \/etc\/docker\/daemon.json \|\| install/);
        // One list of the config's files, rendered once: what the step restarts for, and what its drift probe reads.
        assert.match(s, /FILES='\/etc\/docker\/daemon.json \/etc\/systemd\/system\/docker.service.d\/consul-swarm.conf \/etc\/docker\/tls'/);
        assert.match(s, /\ndocker_apply\n?$/);
        assert.match(s, /daemon.json.orig/);
    });
    it("restarts dockerd from the host's real state: not running, never stamped, or started before a file changed", () => {
        // A stand-in systemctl records what the script asks; the files and the start stamp are real.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-docker-apply-"));
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(`${dir}/bin/systemctl`, `#!/bin/sh\necho "$*" >> ${dir}/calls\ncase "$*" in "is-active --quiet docker") [ -e ${dir}/active ];; restart*) touch ${dir}/stamp;; esac\n`, { mode: 0o755 });
        fs.writeFileSync(`${dir}/bin/curl`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        // A stand-in docker CLI: a swarm node while ${dir}/swarm exists.
        fs.writeFileSync(`${dir}/bin/docker`, `#!/bin/sh\nif [ -e ${dir}/swarm ]; then echo active; else echo inactive; fi\n`, { mode: 0o755 });
        const record = loadScript("record-lib").replace(/^RECORD_DIR=.*$/m, `RECORD_DIR=${dir}/applied`);
        const lib = loadScript("docker-lib").replace(/^DOCKER_STARTED=.*$/m, `DOCKER_STARTED=${dir}/stamp`).replace(/^DOCKER_STAMP_DROPIN=.*$/m, `DOCKER_STAMP_DROPIN=${dir}/dropin`);
        const apply = () => {
            fs.rmSync(`${dir}/calls`, { force: true });
            sh(`set -eu\nPATH=${dir}/bin:$PATH\nTLS=no PING_ADDR=127.0.0.1 PORT=2375 FILES=${dir}/daemon.json\n${loadScript("retry-lib")}\n${record}\n${lib}\ndocker_apply >/dev/null`);
            return fs.existsSync(`${dir}/calls`) && fs.readFileSync(`${dir}/calls`, "utf8").includes("restart docker");
        };
        // The restart in its turn (docker-restart), after the previous swarm node's.
        const turn = () => {
            fs.rmSync(`${dir}/calls`, { force: true });
            const out = sh(`set -eu\nPATH=${dir}/bin:$PATH\nTLS=no PING_ADDR=127.0.0.1 PORT=2375 FILES=${dir}/daemon.json\n${loadScript("retry-lib")}\nstep_lock() { :; }\n${lib}\n${loadScript("docker-restart")}`);
            return { restarted: fs.existsSync(`${dir}/calls`) && fs.readFileSync(`${dir}/calls`, "utf8").includes("restart docker"), out };
        };
        const age = (f: string, secondsAgo: number) => fs.utimesSync(f, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));
        fs.writeFileSync(`${dir}/daemon.json`, "{}");
        fs.writeFileSync(`${dir}/dropin`, "");
        age(`${dir}/dropin`, 100);
        age(`${dir}/daemon.json`, 60);
        assert.equal(apply(), true, "not running: started");
        fs.writeFileSync(`${dir}/active`, "");
        fs.rmSync(`${dir}/stamp`);
        assert.equal(apply(), true, "running but never stamped (started before the stack's drop-in): restarted");
        age(`${dir}/stamp`, 30);
        assert.equal(apply(), false, "running since after its config last changed: left alone");
        age(`${dir}/daemon.json`, 10);
        assert.equal(apply(), true, "config written after the daemon started (a run killed before its restart): restarted");
        assert.equal(apply(), false, "and then left alone");
        assert.deepEqual(turn(), { restarted: false, out: "dockerd=current\n" }, "its turn: nothing to do");
        // A swarm node: the Docker step leaves the restart to its turn, which does it.
        fs.writeFileSync(`${dir}/swarm`, "");
        age(`${dir}/stamp`, 30);
        age(`${dir}/daemon.json`, 10);
        assert.equal(apply(), false, "a swarm node does not restart in the Docker step");
        assert.equal(turn().restarted, true, "it restarts in its turn");
        assert.equal(apply(), false, "and then left alone");
        assert.equal(turn().restarted, false, "in every later turn too");
        fs.rmSync(`${dir}/swarm`);
        // What refresh's drift probe reads: the record of what the step wrote, and the daemon's state.
        const drift = () =>
            sh(`set -eu\nPATH=${dir}/bin:$PATH\nFILES=${dir}/daemon.json\n${record}\n${lib}\n${loadScript("docker-drift")}`).trim();
        assert.equal(drift(), "", "as the step left it: no finding");
        fs.writeFileSync(`${dir}/daemon.json`, '{"debug": true}');
        assert.match(drift(), /daemon\.json was edited after the stack wrote it/);
        assert.match(drift(), /runs with an older config than the one on disk/);
        fs.rmSync(`${dir}/active`);
        assert.match(drift(), /dockerd on .* is not running/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

/**
 * A RHEL-family host in a temporary directory: its docker unit as `systemctl cat` shows it, its
 * /etc/sysconfig/docker, and the Docker step's script with every path it writes moved there.
 */
function rhelHost(unit: string, sysconfig: string, tcpPort: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-rhel-"));
    fs.mkdirSync(`${dir}/bin`);
    fs.writeFileSync(`${dir}/unit`, unit);
    fs.writeFileSync(`${dir}/bin/systemctl`, `#!/bin/sh\n[ "$1" = cat ] && cat '${dir}/unit'\nexit 0\n`, { mode: 0o755 });
    fs.writeFileSync(`${dir}/bin/curl`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    fs.writeFileSync(`${dir}/docker`, sysconfig);
    const script = dockerDaemonScript("rhel", { tcpPort, bindAddress: "0.0.0.0", tls: false })
        .replace(/^STATE=.*$/m, `STATE=${dir}/state`)
        .replace(/^CONF=.*$/m, `CONF=${dir}/docker`)
        .replace(/^DOCKER_STARTED=.*$/m, `DOCKER_STARTED=${dir}/started`)
        .replace(/^DOCKER_STAMP_DROPIN=.*$/m, `DOCKER_STAMP_DROPIN=${dir}/dropin/stamp.conf`)
        .replace(/\/etc\/systemd\/system\/docker\.service\.d/g, `${dir}/dropin`)
        .replace(/\/etc\/docker\b/g, `${dir}/etc-docker`)
        .replace(/^step_lock .*$/m, ":");
    const run = () => execFileSync("sh", ["-c", script], { env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` }, encoding: "utf8" });
    return { dir, run, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe("CentOS 7: the stock /etc/sysconfig/docker", () => {
    it("keeps the file's own OPTIONS and lines, adds the API flags, and sources it under set -u", () => {
        // The file of CentOS 7's docker package reads ${DOCKER_CERT_PATH} unset: sourcing it under
        // `set -u` used to fail the step. Its packaged unit reads the file (EnvironmentFile).
        const stock = fs.readFileSync(path.join(__dirname, "..", "fixtures", "centos7-sysconfig-docker"), "utf8");
        const host = rhelHost("[Service]\nEnvironmentFile=-/etc/sysconfig/docker\nExecStart=/usr/bin/dockerd-current $OPTIONS\n", stock, 2375);
        host.run();
        const after = fs.readFileSync(`${host.dir}/docker`, "utf8");
        assert.match(after, /^OPTIONS='--selinux-enabled --log-driver=journald --signature-verification=false -H unix:\/\/\/var\/run\/docker.sock -H tcp:\/\/0.0.0.0:2375'$/m);
        assert.equal(after.match(/^OPTIONS=/gm)?.length, 1, "one OPTIONS line");
        assert.match(after, /if \[ -z "\$\{DOCKER_CERT_PATH\}" \]; then/, "the file's other lines are kept");
        assert.equal(fs.readFileSync(`${host.dir}/state/sysconfig.orig`, "utf8"), stock, "the original is saved for destroy");
        assert.ok(!fs.existsSync(`${host.dir}/etc-docker/daemon.json`), "no daemon.json beside it");
        host.run();
        assert.equal(fs.readFileSync(`${host.dir}/docker`, "utf8"), after, "a second run changes nothing");
        host.done();
    });
});

describe("RHEL family with Docker CE", () => {
    it("writes daemon.json and the drop-in, not /etc/sysconfig/docker, when the unit does not read that file", () => {
        const host = rhelHost("[Service]\nExecStart=/usr/bin/dockerd -H fd://\n", "OPTIONS='--selinux-enabled'\n", 2376);
        host.run();
        assert.deepEqual(JSON.parse(fs.readFileSync(`${host.dir}/etc-docker/daemon.json`, "utf8")).hosts, ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"]);
        assert.match(fs.readFileSync(`${host.dir}/dropin/consul-swarm.conf`, "utf8"), /^ExecStart=$/m, "the unit's -H fd:// cleared");
        assert.equal(fs.readFileSync(`${host.dir}/docker`, "utf8"), "OPTIONS='--selinux-enabled'\n", "/etc/sysconfig/docker untouched");
        assert.ok(fs.existsSync(`${host.dir}/state/daemon.json.absent`), "destroy will remove the daemon.json it made");
        host.done();
    });
});

describe("Docker daemon TLS", () => {
    const tls = { tcpPort: 2376, bindAddress: "0.0.0.0", tls: true };
    it("Debian: daemon.json verifies client certificates", () => {
        assert.deepEqual(JSON.parse(dockerDaemonJson(tls)), {
            hosts: ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
            tls: true,
            tlscacert: "/etc/docker/tls/ca.pem",
            tlscert: "/etc/docker/tls/cert.pem",
            tlskey: "/etc/docker/tls/key.pem",
            tlsverify: true,
        });
        const s = dockerDaemonScript("debian", tls);
        assert.match(s, /TLS='yes'/);
        assert.match(s, /docker_tls_files\(\)/, "the material arrives on stdin and is split into files");
        assert.match(s, /https:\/\/\$PING_ADDR:\$PORT\/_ping/);
    });
    it("CentOS 7: the same through OPTIONS flags", () => {
        assert.equal(
            dockerSysconfigFlags(tls),
            "-H unix:///var/run/docker.sock -H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/etc/docker/tls/ca.pem --tlscert=/etc/docker/tls/cert.pem --tlskey=/etc/docker/tls/key.pem",
        );
    });
    it("splits the TLS material on stdin into ca, cert and key files, the key 0600", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cs-tls-"));
        const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
        const script = `set -eu\nTLS_DIR=${dir}/tls\ntmp=$(mktemp -d)\n${loadScript("docker-tls-files")}\ndocker_tls_files`;
        const input = pem("CERTIFICATE", "CA") + pem("CERTIFICATE", "SERVER") + pem("EC PRIVATE KEY", "KEY");
        sh(script, input);
        assert.match(fs.readFileSync(`${dir}/tls/ca.pem`, "utf8"), /\nCA\n/);
        assert.match(fs.readFileSync(`${dir}/tls/cert.pem`, "utf8"), /\nSERVER\n/);
        assert.equal(fs.statSync(`${dir}/tls/key.pem`).mode & 0o777, 0o600);
        const mtime = fs.statSync(`${dir}/tls/key.pem`).mtimeMs;
        sh(script, input);
        assert.equal(fs.statSync(`${dir}/tls/key.pem`).mtimeMs, mtime, "the same material is not written again");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("a host without Docker", () => {
    /** docker_ensure_installed under sh, with stand-ins for the package manager and systemctl. */
    function ensureInstalled(aptGet: string, manager = "apt-get") {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-install-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.mkdirSync(path.join(dir, "tmp"));
        const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        stub(manager, `echo "${manager} $*" >> '${dir}/calls'\n${aptGet.replace(/BIN/g, bin).replace(/DIR/g, dir)}`);
        stub("systemctl", `echo "systemctl $*" >> '${dir}/calls'`);
        // This machine has apt-get itself: a RHEL-family host is one whose apt-get is not there.
        const lib = manager === "apt-get" ? loadScript("docker-lib") : loadScript("docker-lib").replace("command -v apt-get", "command -v no-apt-get-here");
        const script = `${lib}\nSTATE='${dir}/state'\ntmp='${dir}/tmp'\ndocker_ensure_installed\necho ensured`;
        let out = "";
        let status = 0;
        try {
            out = execFileSync("sh", ["-c", script], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` }, stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
            const err = e as { status: number; stdout: string; stderr: string };
            status = err.status;
            out = err.stdout + err.stderr;
        }
        const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8") : "";
        const recorded = fs.existsSync(path.join(dir, "state", "docker.installed-by-stack"));
        fs.rmSync(dir, { recursive: true, force: true });
        return { out, status, calls, recorded };
    }
    const installs = `case "$1" in update) : > DIR/updated ;; install) [ -e DIR/updated ] || exit 100; printf '#!/bin/sh\\n' > BIN/dockerd; chmod +x BIN/dockerd ;; esac`;

    it("installs docker.io with apt-get from the host's own lists, fetching them only when they cannot serve it, and records it", () => {
        const r = ensureInstalled(installs);
        assert.equal(r.status, 0, r.out);
        assert.match(r.out, /has no Docker: installing docker\.io with apt-get/);
        assert.match(r.out, /ensured$/m);
        assert.deepEqual(r.calls.trim().split("\n").map((l) => l.split(" ").slice(0, 2).join(" ")), ["apt-get install", "apt-get update", "apt-get install", "systemctl enable"]);
        assert.ok(r.recorded, "the stack records that it installed Docker");
    });
    it("on CentOS/RHEL 7 installs docker with yum from the host's own repositories", () => {
        const r = ensureInstalled(`printf '#!/bin/sh\\n' > BIN/dockerd; chmod +x BIN/dockerd`, "yum");
        assert.equal(r.status, 0, r.out);
        assert.match(r.out, /has no Docker: installing docker with yum/);
        assert.match(r.calls, /^yum install -y -q docker$/m);
        assert.ok(r.recorded);
    });
    it("stops with a clear error, changing nothing else, when the package manager cannot install it", () => {
        const r = ensureInstalled("echo 'E: Unable to locate package docker.io' >&2; exit 100");
        assert.equal(r.status, 3);
        assert.match(r.out, /has no Docker and its package manager could not install it; install Docker and run up again/);
        assert.match(r.out, /Unable to locate package docker\.io/);
        assert.ok(!r.recorded);
    });
});
