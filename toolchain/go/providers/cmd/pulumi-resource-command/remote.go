package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

// connection is the parsed `connection` input (or its `proxy`).
type connection struct {
	Host               string
	Port               int
	User               string
	Password           string
	PrivateKey         string
	PrivateKeyPassword string
	AgentSocketPath    string
	HostKey            string
	DialErrorLimit     int // -1 = unlimited
	PerDialTimeout     int // seconds, 0 = no limit
	Proxy              *connection
}

func parseConnection(m fw.PropertyMap) (*connection, error) {
	c := &connection{
		Host:               fw.StringOr(m, "host", ""),
		Port:               fw.IntOr(m, "port", defaultPort),
		User:               fw.StringOr(m, "user", defaultUser),
		Password:           fw.StringOr(m, "password", ""),
		PrivateKey:         fw.StringOr(m, "privateKey", ""),
		PrivateKeyPassword: fw.StringOr(m, "privateKeyPassword", ""),
		AgentSocketPath:    fw.StringOr(m, "agentSocketPath", ""),
		HostKey:            fw.StringOr(m, "hostKey", ""),
		DialErrorLimit:     fw.IntOr(m, "dialErrorLimit", defaultDialErrorLimit),
		PerDialTimeout:     fw.IntOr(m, "perDialTimeout", defaultPerDialTimeout),
	}
	if c.Host == "" {
		return nil, errors.New("connection.host is required")
	}
	if p, ok := fw.GetObject(m, "proxy"); ok {
		pc, err := parseConnection(p)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		c.Proxy = pc
	}
	return c, nil
}

func connectionOf(m fw.PropertyMap) (*connection, error) {
	cm, ok := fw.GetObject(m, "connection")
	if !ok {
		return nil, errors.New("connection is required")
	}
	return parseConnection(cm)
}

func (c *connection) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

func (c *connection) perDial() time.Duration { return time.Duration(c.PerDialTimeout) * time.Second }

// clientConfig builds the SSH client configuration: private key, then
// password (also as keyboard-interactive), then an agent (agentSocketPath
// or SSH_AUTH_SOCK). Without hostKey the server's key is not checked (as
// upstream).
func (c *connection) clientConfig() (*ssh.ClientConfig, func(), error) {
	cfg := &ssh.ClientConfig{User: c.User, Timeout: c.perDial()}
	cleanup := func() {}
	if c.HostKey != "" {
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.HostKey))
		if err != nil {
			return nil, cleanup, fmt.Errorf("parsing connection.hostKey: %w", err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(pk)
		cfg.HostKeyAlgorithms = []string{pk.Type()}
	} else {
		cfg.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // documented upstream behaviour
	}
	if c.PrivateKey != "" {
		var signer ssh.Signer
		var err error
		if c.PrivateKeyPassword != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.PrivateKey), []byte(c.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(c.PrivateKey))
		}
		if err != nil {
			return nil, cleanup, fmt.Errorf("parsing connection.privateKey: %w", err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.Password != "" {
		pw := c.Password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	sock := c.AgentSocketPath
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			if c.AgentSocketPath != "" {
				return nil, cleanup, fmt.Errorf("connecting to the SSH agent at %s: %w", sock, err)
			}
		} else {
			cleanup = func() { _ = conn.Close() }
			cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		}
	}
	if len(cfg.Auth) == 0 {
		return nil, cleanup, errors.New("connection has no credentials: set privateKey, password or agentSocketPath")
	}
	return cfg, cleanup, nil
}

// retryAfter is the timer of the dial retries (time.After when nil);
// tests replace it to record the delays without sleeping.
var retryAfter func(time.Duration) <-chan time.Time

// withRetry calls f until it succeeds, the context ends, or the dial error
// limit is reached, on the SDK's retry helper with its default schedule
// (first wait 100 ms, x1.5 each time, at most 5 s), as upstream's
// dialWithRetry: the n-th failed dial fails the whole when n > limit
// (limit -1 = unlimited), with the error "after N failed attempts: ERR"
// where N is n-1, upstream's count.
func withRetry[T any](ctx context.Context, what string, limit int, status func(string), f func() (T, error)) (T, error) {
	var zero T
	var result T
	ok, _, err := (&retry.Retryer{After: retryAfter}).Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			v, err := f()
			if err == nil {
				result = v
				return true, nil, nil
			}
			dials := try + 1
			if limit > -1 && dials > limit {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, err)
			}
			lim := "inf"
			if limit != -1 {
				lim = strconv.Itoa(limit)
			}
			if status != nil {
				status(fmt.Sprintf("%s %d/%s failed: retrying", what, dials, lim))
			}
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return result, nil
	}
	if err == nil {
		err = ctx.Err()
	}
	return zero, err
}

// handshake runs the SSH handshake over conn, bounded by the per-dial timeout.
func handshake(conn net.Conn, addr string, cfg *ssh.ClientConfig, timeout time.Duration) (*ssh.Client, error) {
	if timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

// dial connects to c (through its proxy if set), retrying each dial up to
// its dialErrorLimit with perDialTimeout per attempt.
func (c *connection) dial(ctx context.Context, status func(string)) (*ssh.Client, func(), error) {
	return c.dialAs(ctx, "Dial", status)
}

func (c *connection) dialAs(ctx context.Context, what string, status func(string)) (*ssh.Client, func(), error) {
	cfg, cleanup, err := c.clientConfig()
	if err != nil {
		return nil, cleanup, err
	}
	if c.Proxy == nil {
		client, err := withRetry(ctx, what, c.DialErrorLimit, status, func() (*ssh.Client, error) {
			d := net.Dialer{Timeout: c.perDial()}
			conn, err := d.DialContext(ctx, "tcp", c.addr())
			if err != nil {
				return nil, err
			}
			return handshake(conn, c.addr(), cfg, c.perDial())
		})
		return client, cleanup, err
	}
	proxyClient, proxyCleanup, err := c.Proxy.dialAs(ctx, "Dial proxy", status)
	all := func() { cleanup(); proxyCleanup() }
	if err != nil {
		return nil, all, fmt.Errorf("proxy: %w", err)
	}
	client, err := withRetry(ctx, "Dial from proxy", c.DialErrorLimit, status, func() (*ssh.Client, error) {
		conn, err := proxyClient.DialContext(ctx, "tcp", c.addr())
		if err != nil {
			return nil, err
		}
		return handshake(conn, c.addr(), cfg, c.perDial())
	})
	if err != nil {
		_ = proxyClient.Close()
		return nil, all, err
	}
	return client, func() { all(); _ = proxyClient.Close() }, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// errSetenv is returned when the server refuses an environment variable.
type errSetenv struct {
	name string
	err  error
}

func (e *errSetenv) Error() string {
	return fmt.Sprintf("the SSH server refused environment variable %s (%v); nothing was run. "+
		"The server's sshd_config must accept it (AcceptEnv %s), or pass the value another way "+
		"(stdin, or a file copied with CopyToRemote)", e.name, e.err, e.name)
}

// runRemote runs spec on the host of conn. As upstream, the command text is
// the SSH exec request itself, so the remote user's login shell runs it
// (`$SHELL -c COMMAND`).
func runRemote(ctx context.Context, conn *connection, spec runSpec, log, warn, status func(string)) (runResult, error) {
	red := newRedactor(spec.Secrets)
	client, cleanup, err := conn.dial(ctx, status)
	defer cleanup()
	if err != nil {
		return runResult{}, errors.New(red.mask(err.Error()))
	}
	defer client.Close()

	session, err := client.NewSession()
	if err != nil {
		return runResult{}, fmt.Errorf("opening an SSH session on %s: %w", conn.addr(), err)
	}
	defer session.Close()

	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := session.Setenv(k, spec.Env[k]); err != nil {
			return runResult{}, &errSetenv{name: k, err: err}
		}
	}
	if spec.AddPrev {
		for _, kv := range [][2]string{{envPrevStdout, spec.PrevStdout}, {envPrevStderr, spec.PrevStderr}} {
			if kv[1] == "" {
				continue
			}
			if err := session.Setenv(kv[0], kv[1]); err != nil && warn != nil {
				// Upstream sets these optimistically: warn and go on.
				warn(fmt.Sprintf("could not set %s on the remote host (sshd must list it in AcceptEnv); "+
					"set addPreviousOutputInEnv: false to silence this", kv[0]))
			}
		}
	}
	if spec.Stdin != "" {
		session.Stdin = strings.NewReader(spec.Stdin)
	} else {
		session.Stdin = strings.NewReader("")
	}
	c := newCapture(spec, red, log)
	stdout, stderr := c.writers()
	session.Stdout, session.Stderr = stdout, stderr

	done := make(chan error, 1)
	go func() { done <- session.Run(spec.Command) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGKILL)
		_ = session.Close()
		err = <-done
		if err == nil {
			err = ctx.Err()
		}
	}
	res := c.result()
	if err == nil {
		return res, nil
	}
	where := "on " + conn.addr()
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case errors.As(err, &ee):
		xe := &exitError{code: ee.ExitStatus(), what: describe(spec, red), stderr: red.mask(tail(res.Stderr)), context: where}
		if ee.Signal() != "" {
			xe.code = -1
			xe.detail = "killed by signal " + ee.Signal()
		}
		return res, xe
	case errors.As(err, &missing):
		return res, &exitError{code: -1, detail: "the connection closed without an exit status", what: describe(spec, red),
			stderr: red.mask(tail(res.Stderr)), context: where}
	case ctx.Err() != nil:
		return res, fmt.Errorf("command %s %s: %w", where, describe(spec, red), ctx.Err())
	case errors.Is(err, io.EOF):
		return res, fmt.Errorf("connection to %s lost %s", conn.addr(), describe(spec, red))
	}
	return res, fmt.Errorf("command %s %s: %s", where, describe(spec, red), red.mask(err.Error()))
}
