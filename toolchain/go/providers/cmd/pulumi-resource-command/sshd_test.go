package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

// testSSHD is an OpenSSH server of the test's own, on 127.0.0.1 and a free
// high port, with its own host key and config; it is stopped when the test
// ends. It accepts the environment variables ACCEPTED_* only.
type testSSHD struct {
	port       int
	user       string
	privateKey string
	hostKey    string // authorized_keys form
	dir        string
}

// sshdOptions changes the test server's config.
type sshdOptions struct {
	// noSFTP leaves out `Subsystem sftp` (a host where CopyToRemote fails).
	noSFTP bool
	// acceptPulumiEnv adds PULUMI_COMMAND_* to AcceptEnv.
	acceptPulumiEnv bool
}

const sftpServer = "/usr/lib/openssh/sftp-server"

func startSSHD(t *testing.T, opts ...sshdOptions) *testSSHD {
	var o sshdOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("no sshd on this machine (apt-get install openssh-server)")
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("no ssh-keygen")
	}
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	if os.Geteuid() == 0 {
		// The privilege separation directory that the packaged service creates.
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	dir := t.TempDir()
	hostKeyPath := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKeyPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	hostPub, err := os.ReadFile(hostKeyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AcceptEnv ACCEPTED_*
`, port, hostKeyPath, filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"))
	if o.acceptPulumiEnv {
		cfg += "AcceptEnv PULUMI_COMMAND_*\n"
	}
	if !o.noSFTP {
		if _, err := os.Stat(sftpServer); err != nil {
			t.Fatalf("no %s on this machine (apt-get install openssh-sftp-server)", sftpServer)
		}
		cfg += "Subsystem sftp " + sftpServer + "\n"
	}
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sshd, "-t", "-f", cfgPath).CombinedOutput(); err != nil {
		t.Skipf("sshd rejects the test config: %v %s", err, out)
	}
	logf, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Logf("sshd log:\n%s", b)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &testSSHD{
		port: port, user: u.Username, dir: dir,
		privateKey: string(pem.EncodeToMemory(block)),
		hostKey:    strings.TrimSpace(string(hostPub)),
	}
}

func (s *testSSHD) connection() fw.PropertyMap {
	return fw.PropertyMap{
		"host":       fw.Str("127.0.0.1"),
		"port":       fw.Num(float64(s.port)),
		"user":       fw.Str(s.user),
		"privateKey": fw.Secret(fw.Str(s.privateKey)),
		"hostKey":    fw.Str(s.hostKey),
	}
}

func TestRemoteAgainstSSHD(t *testing.T) {
	s := startSSHD(t)
	t.Setenv("SSH_AUTH_SOCK", "")
	ctx := context.Background()
	c := &command{remote: true}
	check := func(news fw.PropertyMap) fw.PropertyMap {
		in, failures, err := c.Check(ctx, fw.CheckRequest{News: news})
		if err != nil || len(failures) != 0 {
			t.Fatalf("check: %v %v", failures, err)
		}
		return in
	}

	t.Run("create, update, delete", func(t *testing.T) {
		marker := filepath.Join(s.dir, "deleted")
		in := check(fw.PropertyMap{
			"connection":  fw.Secret(fw.Obj(s.connection())),
			"create":      fw.Str(`echo "sh $ACCEPTED_A"; cat; echo to-stderr >&2`),
			"update":      fw.Str(`echo "update saw: $ACCEPTED_A"`),
			"delete":      fw.Str(fmt.Sprintf(`echo "$ACCEPTED_A" > %s`, shellQuote(marker))),
			"stdin":       fw.Secret(fw.Str("stdin-secret-value")),
			"environment": fw.Obj(fw.PropertyMap{"ACCEPTED_A": fw.Str("alpha")}),
		})
		id, out, err := c.Create(ctx, fw.CreateRequest{Common: common(), Inputs: in})
		if err != nil {
			t.Fatal(err)
		}
		if id == "" {
			t.Fatal("empty id")
		}
		if s, _ := fw.GetString(out, "stdout"); s != "sh alpha\nstdin-secret-value" {
			t.Fatalf("stdout %q", s)
		}
		if s, _ := fw.GetString(out, "stderr"); s != "to-stderr" {
			t.Fatalf("stderr %q", s)
		}
		if out["stdout"].IsSecret() || !out["connection"].IsSecret() {
			t.Fatal("stdout is not secret (as upstream); the connection is")
		}
		news := fw.Copy(in)
		news["environment"] = fw.Obj(fw.PropertyMap{"ACCEPTED_A": fw.Str("beta")})
		out2, err := c.Update(ctx, fw.UpdateRequest{Common: common(), OldState: out, OldInputs: in, News: news})
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := fw.GetString(out2, "stdout"); s != "update saw: beta" {
			t.Fatalf("update stdout %q", s)
		}
		if err := c.Delete(ctx, fw.DeleteRequest{Common: common(), State: out2}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(marker); string(b) != "beta\n" {
			t.Fatalf("delete did not run with the state's env: %q", b)
		}
	})

	t.Run("refused environment fails and runs nothing", func(t *testing.T) {
		marker := filepath.Join(s.dir, "should-not-exist")
		in := check(fw.PropertyMap{
			"connection":  fw.Obj(s.connection()),
			"create":      fw.Str("touch " + shellQuote(marker)),
			"environment": fw.Obj(fw.PropertyMap{"REFUSED_B": fw.Str("x")}),
		})
		_, _, err := c.Create(ctx, fw.CreateRequest{Common: common(), Inputs: in})
		if err == nil || !strings.Contains(err.Error(), "AcceptEnv REFUSED_B") {
			t.Fatalf("expected a setenv error, got %v", err)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatal("the command ran despite the refused environment")
		}
	})

	t.Run("exit code and stderr tail, secrets masked", func(t *testing.T) {
		var logs []string
		spec := runSpec{
			Command: `cat; echo "bad thing" >&2; exit 7`,
			Stdin:   "top-secret-stdin",
			Secrets: []string{"top-secret-stdin"},
		}
		cn, _ := parseConnection(s.connection())
		_, err := runRemote(ctx, cn, spec, func(l string) { logs = append(logs, l) }, nil, nil)
		if err == nil || !strings.Contains(err.Error(), "exited with code 7") || !strings.Contains(err.Error(), "bad thing") {
			t.Fatalf("error %v", err)
		}
		joined := strings.Join(logs, "\n")
		if strings.Contains(joined, "top-secret-stdin") || !strings.Contains(joined, "[secret]") {
			t.Fatalf("logs %q", joined)
		}
	})

	t.Run("wrong host key is refused", func(t *testing.T) {
		m := s.connection()
		m["dialErrorLimit"] = fw.Num(0)
		m["hostKey"] = fw.Str("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
		cn, _ := parseConnection(m)
		if _, err := runRemote(ctx, cn, runSpec{Command: "true"}, nil, nil, nil); err == nil {
			t.Fatal("expected a host key mismatch")
		}
	})

	t.Run("copy to remote", func(t *testing.T) {
		dest := filepath.Join(s.dir, "sub", "dir", "file.txt")
		cp := copyToRemote{}
		in, failures, err := cp.Check(ctx, fw.CheckRequest{News: fw.PropertyMap{
			"connection": fw.Secret(fw.Obj(s.connection())),
			"remotePath": fw.Str(dest),
			"source":     textAsset(t, "hello 'world'\n"),
		}})
		if err != nil || len(failures) != 0 {
			t.Fatalf("%v %v", failures, err)
		}
		if _, _, err := cp.Create(ctx, fw.CreateRequest{Common: common(), Inputs: in}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(dest); string(b) != "hello 'world'\n" {
			t.Fatalf("content %q", b)
		}
		// A text asset onto a directory fails.
		in["remotePath"] = fw.Str(s.dir)
		if _, _, err := cp.Create(ctx, fw.CreateRequest{Common: common(), Inputs: in}); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("expected a directory error, got %v", err)
		}
	})
}
