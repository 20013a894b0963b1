package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

const (
	envPrevStdout = "PULUMI_COMMAND_STDOUT"
	envPrevStderr = "PULUMI_COMMAND_STDERR"
	stderrTail    = 20   // lines of stderr kept in an error
	stderrTailMax = 4096 // bytes of stderr kept in an error
)

// runSpec is one run of a command, local or remote.
type runSpec struct {
	Command    string
	Stdin      string
	Env        map[string]string // the user's environment
	PrevStdout string            // previous outputs, passed as PULUMI_COMMAND_* when AddPrev
	PrevStderr string
	AddPrev    bool
	Logging    string // stdout, stderr, stdoutAndStderr (default), none

	// SecretCommand hides the command text from errors.
	SecretCommand bool
	// What, if set, describes the run in errors instead of the command text.
	What string
	// Secrets are masked in everything logged or returned as an error.
	Secrets []string

	// local only
	Dir         string
	Interpreter []string
}

type runResult struct {
	Stdout, Stderr string
}

// specFrom builds a run of cmd from the inputs m (the new inputs for
// create/update, the old state for delete) and the previous outputs in prev.
func specFrom(cmd string, cmdKey string, m, prev fw.PropertyMap) runSpec {
	env, _ := fw.GetStringMap(m, "environment")
	interp, _ := fw.GetStringList(m, "interpreter")
	return runSpec{
		Command:       cmd,
		Stdin:         fw.StringOr(m, "stdin", ""),
		Env:           env,
		PrevStdout:    fw.StringOr(prev, "stdout", ""),
		PrevStderr:    fw.StringOr(prev, "stderr", ""),
		AddPrev:       fw.BoolOr(m, "addPreviousOutputInEnv", true),
		Logging:       fw.StringOr(m, "logging", "stdoutAndStderr"),
		SecretCommand: fw.IsSecret(m, cmdKey),
		Secrets:       secretsOf(m),
		Dir:           fw.StringOr(m, "dir", ""),
		Interpreter:   interp,
	}
}

func (s runSpec) logStdout() bool {
	return s.Logging == "" || s.Logging == "stdout" || s.Logging == "stdoutAndStderr"
}
func (s runSpec) logStderr() bool {
	return s.Logging == "" || s.Logging == "stderr" || s.Logging == "stdoutAndStderr"
}

// redactor masks secret values.
type redactor struct{ secrets []string }

func newRedactor(secrets []string) redactor {
	var keep []string
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) >= 3 {
			keep = append(keep, s)
		}
		// Multi-line secrets (keys, scripts) are also masked line by line.
		if strings.Contains(s, "\n") {
			for _, l := range strings.Split(s, "\n") {
				if l = strings.TrimSpace(l); len(l) >= 3 {
					keep = append(keep, l)
				}
			}
		}
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
	return redactor{secrets: keep}
}

func (r redactor) mask(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[secret]")
	}
	return s
}

// lineLogger is an io.Writer that sends complete lines to log.
type lineLogger struct {
	mu  sync.Mutex
	buf []byte
	log func(string)
}

func (l *lineLogger) Write(p []byte) (int, error) {
	if l == nil || l.log == nil {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.log(strings.TrimRight(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	if l == nil || l.log == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.log(string(l.buf))
		l.buf = nil
	}
}

// capture collects a run's output and streams it to the log.
type capture struct {
	stdout, stderr bytes.Buffer
	outLog, errLog *lineLogger
}

func newCapture(spec runSpec, red redactor, log func(string)) *capture {
	c := &capture{}
	if log != nil {
		masked := func(s string) { log(red.mask(s)) }
		if spec.logStdout() {
			c.outLog = &lineLogger{log: masked}
		}
		if spec.logStderr() {
			c.errLog = &lineLogger{log: masked}
		}
	}
	return c
}

type teeWriter struct {
	buf *bytes.Buffer
	mu  *sync.Mutex
	log *lineLogger
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf.Write(p)
	t.mu.Unlock()
	if t.log != nil {
		_, _ = t.log.Write(p)
	}
	return len(p), nil
}

func (c *capture) writers() (stdout, stderr teeWriter) {
	mu := &sync.Mutex{}
	return teeWriter{&c.stdout, mu, c.outLog}, teeWriter{&c.stderr, mu, c.errLog}
}

func (c *capture) result() runResult {
	c.outLog.flush()
	c.errLog.flush()
	return runResult{
		Stdout: strings.TrimSuffix(c.stdout.String(), "\n"),
		Stderr: strings.TrimSuffix(c.stderr.String(), "\n"),
	}
}

// tail returns the last lines of s, bounded in size.
func tail(s string) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > stderrTail {
		lines = lines[len(lines)-stderrTail:]
	}
	out := strings.Join(lines, "\n")
	if len(out) > stderrTailMax {
		out = "…" + out[len(out)-stderrTailMax:]
	}
	return out
}

// exitError is a command that ran and failed.
type exitError struct {
	code    int    // -1 when unknown (killed by a signal, no status)
	detail  string // e.g. "killed by signal KILL"
	what    string // "running \"...\"" or "running the command (secret)"
	stderr  string // masked tail
	context string // e.g. "on 10.0.0.5:22"
}

func (e *exitError) Error() string {
	var b strings.Builder
	if e.code >= 0 {
		fmt.Fprintf(&b, "command exited with code %d", e.code)
	} else {
		fmt.Fprintf(&b, "command failed (%s)", e.detail)
	}
	if e.context != "" {
		b.WriteString(" " + e.context)
	}
	b.WriteString(" " + e.what)
	if e.stderr != "" {
		fmt.Fprintf(&b, "\nstderr (last lines):\n%s", e.stderr)
	} else {
		b.WriteString("\n(no stderr output)")
	}
	return b.String()
}

func describe(spec runSpec, red redactor) string {
	if spec.What != "" {
		return spec.What
	}
	if spec.SecretCommand {
		return "while running a secret command"
	}
	c := red.mask(spec.Command)
	if len(c) > 200 {
		c = c[:200] + "…"
	}
	return fmt.Sprintf("while running %q", c)
}

// withTimeout applies a custom timeout (seconds; 0 = none).
func withTimeout(ctx context.Context, seconds float64) (context.Context, context.CancelFunc) {
	if seconds <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Duration(seconds*float64(time.Second)))
}

// runLocal runs spec on this machine with the interpreter (default
// /bin/sh -c), in dir (default the program's directory).
func runLocal(ctx context.Context, spec runSpec, log func(string)) (runResult, error) {
	red := newRedactor(spec.Secrets)
	args := spec.Interpreter
	if len(args) == 0 {
		args = []string{"/bin/sh", "-c"}
	}
	args = append(append([]string{}, args...), spec.Command)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if spec.Dir != "" {
		cmd.Dir = spec.Dir
	}
	cmd.Env = os.Environ()
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+spec.Env[k])
	}
	if spec.AddPrev {
		if spec.PrevStdout != "" {
			cmd.Env = append(cmd.Env, envPrevStdout+"="+spec.PrevStdout)
		}
		if spec.PrevStderr != "" {
			cmd.Env = append(cmd.Env, envPrevStderr+"="+spec.PrevStderr)
		}
	}
	if spec.Stdin != "" {
		cmd.Stdin = strings.NewReader(spec.Stdin)
	}
	c := newCapture(spec, red, log)
	cmd.Stdout, cmd.Stderr = c.writers()
	err := cmd.Run()
	res := c.result()
	if err == nil {
		return res, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		xe := &exitError{code: ee.ExitCode(), what: describe(spec, red), stderr: red.mask(tail(res.Stderr))}
		if xe.code < 0 {
			xe.detail = ee.String()
			if ctx.Err() != nil {
				xe.detail = "cancelled: " + ctx.Err().Error()
			}
		}
		return res, xe
	}
	return res, fmt.Errorf("starting %s %s: %w", args[0], describe(spec, red), err)
}
