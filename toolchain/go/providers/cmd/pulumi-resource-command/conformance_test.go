package main

// Conformance suite: the plugin against upstream pulumi-command v1.2.1
// (provider/pkg/provider at tag v1.2.1, on pulumi-go-provider v1.3.0's
// infer). Each case names the upstream doc sentence, schema field or source
// function whose behaviour it checks. The cases drive the plugin through its
// gRPC server, the way the engine does (harness_test.go).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// ran returns the lines that the commands appended to dir/ran.
func ran(t *testing.T, dir string) []string {
	t.Helper()
	return lines(readFile(t, filepath.Join(dir, "ran")))
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func testConn() fw.PropertyMap {
	return fw.PropertyMap{"host": fw.Str("10.0.0.1"), "privateKey": fw.Str("k")}
}

// TestConformance_DiffOnlyTriggersReplaces checks, for every input key of
// each resource type, whether a change to it updates in place or replaces.
func TestConformance_DiffOnlyTriggersReplaces(t *testing.T) {
	// schema: triggers — the only input tagged provider:"replaceOnChanges"
	// (common.ResourceInputs.Triggers, CopyToRemoteInputs.Triggers): "Trigger
	// replacements on changes to this input." Every other input is a plain
	// input, so infer's Diff reports an in-place update for it; infer leaves
	// DeleteBeforeReplace unset ("TODO: how should we set this?").
	dir1, dir2 := t.TempDir(), t.TempDir()
	types := []struct {
		token   string
		keys    []string // every input key the plugin accepts
		base    fw.PropertyMap
		changes map[string]resource.PropertyValue
	}{
		{
			token: localCommandToken,
			keys:  localCommandInputs,
			base: fw.PropertyMap{
				"create": fw.Str("echo a"), "triggers": strs("1"), "stdin": fw.Str("x"),
				"environment": fw.Obj(fw.PropertyMap{"A": fw.Str("1")}), "dir": fw.Str(dir1),
			},
			changes: map[string]resource.PropertyValue{
				"addPreviousOutputInEnv": fw.Bool(false),
				"create":                 fw.Str("echo b"),
				"delete":                 fw.Str("echo d"),
				"environment":            fw.Obj(fw.PropertyMap{"A": fw.Str("2")}),
				"logging":                fw.Str("none"),
				"stdin":                  fw.Str("y"),
				"triggers":               strs("2"),
				"update":                 fw.Str("echo u"),
				"dir":                    fw.Str(dir2),
				"interpreter":            strs("/bin/bash", "-c"),
			},
		},
		{
			token: remoteCommandToken,
			keys:  remoteCommandInputs,
			base: fw.PropertyMap{
				"connection": fw.Secret(fw.Obj(testConn())), "create": fw.Str("echo a"),
				"triggers": strs("1"), "stdin": fw.Str("x"), "environment": fw.Obj(fw.PropertyMap{"A": fw.Str("1")}),
			},
			changes: map[string]resource.PropertyValue{
				"addPreviousOutputInEnv": fw.Bool(false),
				"connection":             fw.Obj(with(testConn(), "host", fw.Str("10.0.0.2"))),
				"create":                 fw.Str("echo b"),
				"delete":                 fw.Str("echo d"),
				"environment":            fw.Obj(fw.PropertyMap{"A": fw.Str("2")}),
				"logging":                fw.Str("stderr"),
				"stdin":                  fw.Str("y"),
				"triggers":               strs("2"),
				"update":                 fw.Str("echo u"),
			},
		},
		{
			token: copyToRemoteToken,
			keys:  copyInputs,
			base: fw.PropertyMap{
				"connection": fw.Obj(testConn()), "remotePath": fw.Str("/tmp/a"),
				"source": textAsset(t, "a"), "triggers": strs("1"),
			},
			changes: map[string]resource.PropertyValue{
				"connection": fw.Obj(with(testConn(), "port", fw.Num(2222))),
				"remotePath": fw.Str("/tmp/b"),
				"source":     textAsset(t, "b"),
				"triggers":   strs("2"),
			},
		},
	}
	for _, ty := range types {
		h := newHarness(t)
		base := h.check(ty.token, ty.base)
		old := &resState{id: "id1", inputs: base, outputs: with(base, "stdout", fw.Str(""), "stderr", fw.Str(""))}
		if d := h.diff(ty.token, old, base); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
			t.Errorf("%s: no change must be no diff: %v", ty.token, d)
		}
		for _, key := range ty.keys {
			if key == "assetPaths" || key == "archivePaths" {
				continue // refused at Check (TestConformance_UnsupportedInputsFailAtCheck)
			}
			t.Run(ty.token+"/"+key, func(t *testing.T) {
				v, ok := ty.changes[key]
				if !ok {
					t.Fatalf("no case for input %q", key)
				}
				d := h.diff(ty.token, old, h.check(ty.token, with(ty.base, key, v)))
				if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME {
					t.Fatalf("a change to %s must be a change", key)
				}
				if d.GetDeleteBeforeReplace() {
					t.Fatal("the provider must not force deleteBeforeReplace")
				}
				wantReplaces := []string(nil)
				if key == "triggers" {
					wantReplaces = []string{"triggers"}
				}
				if !slices.Equal(d.GetReplaces(), wantReplaces) {
					t.Fatalf("replaces %v, want %v", d.GetReplaces(), wantReplaces)
				}
				for k, pd := range d.GetDetailedDiff() {
					replace := strings.HasSuffix(pd.GetKind().String(), "_REPLACE")
					if replace != (k == "triggers") {
						t.Fatalf("detailed diff %s: %v", k, pd.GetKind())
					}
				}
			})
		}
	}
}

// TestConformance_UpdateRunsUpdateElseCreate: what an in-place update runs.
func TestConformance_UpdateRunsUpdateElseCreate(t *testing.T) {
	// schema: update — "The command to run when the resource is updated. If
	// empty, the create command will be executed instead." Update in
	// commandController.go: `update` if set, else `create`, else nothing
	// ("If neither are specified, do nothing"); the run's stdout/stderr
	// replace the old BaseOutputs, which are kept when nothing runs.
	create := `echo created; echo create-err >&2; echo create >> ran`
	cases := []struct {
		name       string
		base, next fw.PropertyMap
		wantRan    []string
		wantStdout string
		wantStderr string
	}{
		{
			name:    "update set: update runs",
			base:    fw.PropertyMap{"create": fw.Str(create), "update": fw.Str(`echo updated; echo update >> ran`), "stdin": fw.Str("1")},
			next:    fw.PropertyMap{"stdin": fw.Str("2")},
			wantRan: []string{"create", "update"}, wantStdout: "updated", wantStderr: "",
		},
		{
			name:    "no update: create runs again",
			base:    fw.PropertyMap{"create": fw.Str(create), "stdin": fw.Str("1")},
			next:    fw.PropertyMap{"stdin": fw.Str("2")},
			wantRan: []string{"create", "create"}, wantStdout: "created", wantStderr: "create-err",
		},
		{
			name:    "a delete change alone re-runs create too",
			base:    fw.PropertyMap{"create": fw.Str(create)},
			next:    fw.PropertyMap{"delete": fw.Str("true")},
			wantRan: []string{"create", "create"}, wantStdout: "created", wantStderr: "create-err",
		},
		{
			name:    "neither: nothing runs, the old stdout stays",
			base:    fw.PropertyMap{"create": fw.Str(create)},
			next:    fw.PropertyMap{"create": resource.NewNullProperty(), "delete": fw.Str("true")},
			wantRan: []string{"create"}, wantStdout: "created", wantStderr: "create-err",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			dir := t.TempDir()
			base := with(c.base, "dir", fw.Str(dir))
			st := h.mustUp(localCommandToken, nil, base, stepCreate)
			next := base
			for k, v := range c.next {
				if v.IsNull() {
					next = with(next, string(k), nil)
				} else {
					next = with(next, string(k), v)
				}
			}
			st = h.mustUp(localCommandToken, st, next, stepUpdate)
			wantLines(t, "ran", ran(t, dir), c.wantRan...)
			if str(st.outputs, "stdout") != c.wantStdout || str(st.outputs, "stderr") != c.wantStderr {
				t.Fatalf("stdout %q stderr %q", str(st.outputs, "stdout"), str(st.outputs, "stderr"))
			}
		})
	}
}

// TestConformance_PreviewRunsNothing: nothing runs in preview.
func TestConformance_PreviewRunsNothing(t *testing.T) {
	// commandController.go Create/Update: "If in preview, don't run the
	// command." infer marks stdout/stderr unknown on a create preview (no
	// input of that name) and on an update preview when an input changed
	// (default wiring: every output depends on every input for computedness).
	h := newHarness(t)
	dir := t.TempDir()
	in := h.check(localCommandToken, fw.PropertyMap{
		"create": fw.Str("echo c >> ran"), "update": fw.Str("echo u >> ran"), "dir": fw.Str(dir), "stdin": fw.Str("1"),
	})
	_, outs, err := h.create(localCommandToken, in, true)
	if err != nil {
		t.Fatal(err)
	}
	if str(outs, "stdout") != "<unknown>" || str(outs, "stderr") != "<unknown>" {
		t.Fatalf("create preview outputs %v", outs)
	}
	wantLines(t, "ran after create preview", ran(t, dir))
	st := h.mustUp(localCommandToken, nil, in, stepCreate)
	outs, err = h.update(localCommandToken, st, with(in, "stdin", fw.Str("2")), true)
	if err != nil {
		t.Fatal(err)
	}
	if str(outs, "stdout") != "<unknown>" || str(outs, "stdin") != "2" {
		t.Fatalf("update preview outputs %v", outs)
	}
	wantLines(t, "ran after update preview", ran(t, dir), "c")
}

// TestConformance_CreateWithoutCreateRunsNothing: a command with no create.
func TestConformance_CreateWithoutCreateRunsNothing(t *testing.T) {
	// commandController.go Create: `if input.Create == nil` the resource is
	// recorded (an ID, the inputs, empty stdout/stderr) and nothing runs.
	h := newHarness(t)
	dir := t.TempDir()
	st := h.mustUp(localCommandToken, nil, fw.PropertyMap{"delete": fw.Str("echo d >> ran"), "dir": fw.Str(dir)}, stepCreate)
	if st.id == "" || str(st.outputs, "stdout") != "" || str(st.outputs, "stderr") != "" {
		t.Fatalf("state %+v", st)
	}
	wantLines(t, "ran", ran(t, dir))
	if err := h.delete(localCommandToken, st); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "ran after destroy", ran(t, dir), "d")
}

// TestConformance_DeleteOnDestroyAndReplace: delete runs with the old state.
func TestConformance_DeleteOnDestroyAndReplace(t *testing.T) {
	// schema: delete — "The command to run on resource deletion."
	// commandController.go Delete runs the state's `delete` (the old
	// resource's inputs); on a triggers change the engine creates the new
	// resource first, then deletes the old one (no deleteBeforeReplace).
	h := newHarness(t)
	dir := t.TempDir()
	prog := func(v, trig string) fw.PropertyMap {
		return fw.PropertyMap{
			"create":      fw.Str(`echo "create $V" >> ran`),
			"delete":      fw.Str(`echo "delete $V" >> ran`),
			"environment": fw.Obj(fw.PropertyMap{"V": fw.Str(v)}),
			"triggers":    strs(trig),
			"dir":         fw.Str(dir),
		}
	}
	st := h.mustUp(localCommandToken, nil, prog("one", "1"), stepCreate)
	st = h.mustUp(localCommandToken, st, prog("two", "2"), stepReplace)
	wantLines(t, "after replace", ran(t, dir), "create one", "create two", "delete one")
	if err := h.delete(localCommandToken, st); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "after destroy", ran(t, dir), "create one", "create two", "delete one", "delete two")
}

// TestConformance_StdinReachesCommand: stdin is the process's standard input.
func TestConformance_StdinReachesCommand(t *testing.T) {
	// schema: stdin — "Pass a string to the command's process as standard in".
	h := newHarness(t)
	st := h.mustUp(localCommandToken, nil, fw.PropertyMap{"create": fw.Str("cat"), "stdin": fw.Str("hello\nworld")}, stepCreate)
	if got := str(st.outputs, "stdout"); got != "hello\nworld" {
		t.Fatalf("stdout %q", got)
	}
}

const prevEnvProbe = `echo "prev=${PULUMI_COMMAND_STDOUT-unset}/${PULUMI_COMMAND_STDERR-unset}"`

// TestConformance_PreviousOutputEnvLocal: PULUMI_COMMAND_STDOUT/STDERR.
func TestConformance_PreviousOutputEnvLocal(t *testing.T) {
	// schema: addPreviousOutputInEnv — "If the previous command's stdout and
	// stderr (as generated by the prior create/update) is injected into the
	// environment of the next run as PULUMI_COMMAND_STDOUT and
	// PULUMI_COMMAND_STDERR. Defaults to true." local/commandOutputs.go run:
	// each is set only when non-empty; update and delete see them.
	cases := []struct {
		name       string
		add        *bool
		wantUpdate string // stdout of update (previous: out1/err1)
		wantDelete string // what delete saw (previous: the update's, stderr empty)
	}{
		{"unset defaults to true", nil, "prev=out1/err1", "prev=prev=out1/err1/unset"},
		{"true", ptr(true), "prev=out1/err1", "prev=prev=out1/err1/unset"},
		{"false disables", ptr(false), "prev=unset/unset", "prev=unset/unset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			dir := t.TempDir()
			prog := fw.PropertyMap{
				"create": fw.Str(`echo out1; echo err1 >&2`),
				"update": fw.Str(prevEnvProbe),
				"delete": fw.Str(prevEnvProbe + " >> ran"),
				"dir":    fw.Str(dir),
				"stdin":  fw.Str("1"),
			}
			if c.add != nil {
				prog["addPreviousOutputInEnv"] = fw.Bool(*c.add)
			}
			st := h.mustUp(localCommandToken, nil, prog, stepCreate)
			st = h.mustUp(localCommandToken, st, with(prog, "stdin", fw.Str("2")), stepUpdate)
			if got := str(st.outputs, "stdout"); got != c.wantUpdate {
				t.Fatalf("update saw %q, want %q", got, c.wantUpdate)
			}
			if err := h.delete(localCommandToken, st); err != nil {
				t.Fatal(err)
			}
			wantLines(t, "delete saw", ran(t, dir), c.wantDelete)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestConformance_PreviousOutputEnvRemote: PULUMI_COMMAND_* over SSH setenv.
func TestConformance_PreviousOutputEnvRemote(t *testing.T) {
	// schema: addPreviousOutputInEnv (as for local, default true).
	// remote/commandOutputs.go run: "Set remote Stdout and Stderr environment
	// variables optimistically, but log and continue if they fail" — a
	// refusal is a warning (logAndWrapSetenvErr with diag.Warning).
	t.Setenv("SSH_AUTH_SOCK", "")
	cases := []struct {
		name        string
		acceptEnv   bool
		add         *bool
		wantUpdate  string
		wantWarning bool
	}{
		{"accepted by sshd (AcceptEnv PULUMI_COMMAND_*)", true, nil, "prev=out1/err1", false},
		{"refused by sshd: a warning, the command runs", false, nil, "prev=unset/unset", true},
		{"false: not sent at all", true, ptr(false), "prev=unset/unset", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startSSHD(t, sshdOptions{acceptPulumiEnv: c.acceptEnv})
			h := newHarness(t)
			prog := fw.PropertyMap{
				"connection": fw.Secret(fw.Obj(s.connection())),
				"create":     fw.Str(`echo out1; echo err1 >&2`),
				"update":     fw.Str(prevEnvProbe),
				"stdin":      fw.Str("1"),
			}
			if c.add != nil {
				prog["addPreviousOutputInEnv"] = fw.Bool(*c.add)
			}
			st := h.mustUp(remoteCommandToken, nil, prog, stepCreate)
			st = h.mustUp(remoteCommandToken, st, with(prog, "stdin", fw.Str("2")), stepUpdate)
			if got := str(st.outputs, "stdout"); got != c.wantUpdate {
				t.Fatalf("update saw %q, want %q", got, c.wantUpdate)
			}
			warned := false
			for _, m := range h.engine.messages(pulumirpc.LogSeverity_WARNING) {
				if strings.Contains(m, "PULUMI_COMMAND_STDOUT") {
					warned = true
				}
			}
			if warned != c.wantWarning {
				t.Fatalf("warning logged: %v, want %v (%q)", warned, c.wantWarning, h.engine.messages(pulumirpc.LogSeverity_WARNING))
			}
		})
	}
}

// TestConformance_RemoteCommand: the remote command's life over SSH.
func TestConformance_RemoteCommand(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	s := startSSHD(t)
	h := newHarness(t)
	marker := filepath.Join(s.dir, "deleted")
	prog := fw.PropertyMap{
		"connection":  fw.Obj(s.connection()),
		"create":      fw.Str(`echo "create $ACCEPTED_A"; cat`),
		"update":      fw.Str(`echo "update $ACCEPTED_A"`),
		"delete":      fw.Str(fmt.Sprintf(`echo "delete $ACCEPTED_A" > %s`, shellQuote(marker))),
		"stdin":       fw.Str("from stdin"),
		"environment": fw.Obj(fw.PropertyMap{"ACCEPTED_A": fw.Str("one")}),
	}
	// schema: stdin — "Pass a string to the command's process as standard in";
	// schema: environment — "Additional environment variables available to
	// the command's process" (set with SSH setenv, so sshd must AcceptEnv).
	st := h.mustUp(remoteCommandToken, nil, prog, stepCreate)
	if got := str(st.outputs, "stdout"); got != "create one\nfrom stdin" {
		t.Fatalf("create stdout %q", got)
	}
	// schema: update — "If empty, the create command will be executed instead."
	st = h.mustUp(remoteCommandToken, st, with(prog, "environment", fw.Obj(fw.PropertyMap{"ACCEPTED_A": fw.Str("two")})), stepUpdate)
	if got := str(st.outputs, "stdout"); got != "update two" {
		t.Fatalf("update stdout %q", got)
	}
	st = h.mustUp(remoteCommandToken, st, with(prog, "update", nil, "stdin", fw.Str("again")), stepUpdate)
	if got := str(st.outputs, "stdout"); got != "create one\nagain" {
		t.Fatalf("create-as-update stdout %q", got)
	}
	// schema: delete — runs on destroy with the state's inputs.
	if err := h.delete(remoteCommandToken, st); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, marker); got != "delete one\n" {
		t.Fatalf("delete wrote %q", got)
	}

	// remote/commandOutputs.go run: a refused `environment` variable is an
	// error (logAndWrapSetenvErr with diag.Error), and nothing runs.
	t.Run("refused environment is an error", func(t *testing.T) {
		never := filepath.Join(s.dir, "never")
		_, _, err := h.up(remoteCommandToken, nil, fw.PropertyMap{
			"connection":  fw.Obj(s.connection()),
			"create":      fw.Str("touch " + shellQuote(never)),
			"environment": fw.Obj(fw.PropertyMap{"REFUSED_B": fw.Str("x")}),
		})
		noInitFailed(t, err)
		if !strings.Contains(err.Error(), "REFUSED_B") {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(never); err == nil {
			t.Fatal("the command ran despite the refused environment")
		}
	})
}

// TestConformance_OutputSecrecy: which outputs the provider marks secret.
func TestConformance_OutputSecrecy(t *testing.T) {
	// pulumi-go-provider v1.3.0 infer/resource.go ensureDefaultSecrets:
	// "Outputs that share a name with inputs have the secretness flow from
	// input to output" — and nothing else, so stdout/stderr are not secret
	// even when stdin, create or environment is (the program asks with
	// additionalSecretOutputs). schema: connection — provider:"secret", so
	// the connection is secret in the checked inputs and the outputs.
	h := newHarness(t)
	in := h.check(localCommandToken, fw.PropertyMap{
		"create":      fw.Secret(fw.Str(`cat; echo err >&2`)),
		"update":      fw.Secret(fw.Str(`echo "$TOKEN"`)),
		"stdin":       fw.Secret(fw.Str("s3cret-stdin")),
		"environment": fw.Obj(fw.PropertyMap{"TOKEN": fw.Secret(fw.Str("s3cret-token"))}),
	})
	st := h.mustUp(localCommandToken, nil, in, stepCreate)
	for _, k := range []string{"stdout", "stderr"} {
		if st.outputs[resource.PropertyKey(k)].ContainsSecrets() {
			t.Errorf("%s must not be secret (no input of that name)", k)
		}
	}
	for _, k := range []string{"create", "update", "stdin", "environment"} {
		if !st.outputs[resource.PropertyKey(k)].ContainsSecrets() {
			t.Errorf("%s mirrors a secret input and must stay secret", k)
		}
	}
	if str(st.outputs, "stdout") != "s3cret-stdin" {
		t.Fatalf("stdout %q", str(st.outputs, "stdout"))
	}
	st = h.mustUp(localCommandToken, st, with(in, "stdin", fw.Secret(fw.Str("other"))), stepUpdate)
	if st.outputs["stdout"].ContainsSecrets() || str(st.outputs, "stdout") != "s3cret-token" {
		t.Fatalf("update stdout %v", st.outputs["stdout"])
	}

	for _, token := range []string{remoteCommandToken, copyToRemoteToken} {
		prog := fw.PropertyMap{"connection": fw.Obj(testConn()), "create": fw.Str("true"),
			"remotePath": fw.Str("/tmp/x"), "source": textAsset(t, "x")}
		if token == remoteCommandToken {
			delete(prog, "remotePath")
			delete(prog, "source")
		} else {
			delete(prog, "create")
		}
		in := h.check(token, prog)
		if !in["connection"].IsSecret() {
			t.Errorf("%s: a plain connection must come out of Check secret", token)
		}
		_, outs, err := h.create(token, in, true)
		if err != nil {
			t.Fatal(err)
		}
		if !outs["connection"].IsSecret() {
			t.Errorf("%s: the connection output must be secret", token)
		}
	}
}

// TestConformance_FailedCreateLeavesNoState: a failed create records nothing.
func TestConformance_FailedCreateLeavesNoState(t *testing.T) {
	// pulumi-go-provider infer Create: only a ResourceInitFailedError yields
	// partial state (InitializationFailed); commandController.go returns the
	// run's plain error, so the engine records no resource.
	h := newHarness(t)
	dir := t.TempDir()
	st, _, err := h.up(localCommandToken, nil, fw.PropertyMap{
		"create": fw.Str(`echo partial; exit 3`), "delete": fw.Str("echo d >> ran"), "dir": fw.Str(dir),
	})
	noInitFailed(t, err)
	if st != nil {
		t.Fatalf("state recorded: %+v", st)
	}
	if !strings.Contains(err.Error(), "exited with code 3") {
		t.Fatalf("error %v", err)
	}
	// A remote create that cannot connect is the same.
	recordDelays(t)
	t.Setenv("SSH_AUTH_SOCK", "")
	m := startSSHD(t).connection()
	m["port"], m["dialErrorLimit"] = fw.Num(float64(closedPort(t))), fw.Num(0)
	st, _, err = h.up(remoteCommandToken, nil, fw.PropertyMap{"connection": fw.Obj(m), "create": fw.Str("true")})
	noInitFailed(t, err)
	if st != nil || !strings.Contains(err.Error(), "after 0 failed attempts") {
		t.Fatalf("state recorded: %+v (%v)", st, err)
	}
}

// TestConformance_FailedUpdateKeepsOldState: a failed update changes nothing.
func TestConformance_FailedUpdateKeepsOldState(t *testing.T) {
	// infer Update: a plain error (no ResourceInitFailedError) is returned
	// without state, so the engine keeps the old state and inputs, and the
	// next `up` sees the same diff and runs the update again.
	h := newHarness(t)
	dir := t.TempDir()
	prog := fw.PropertyMap{
		"create": fw.Str("echo v1"),
		"update": fw.Str("echo attempt >> ran; exit 1"),
		"stdin":  fw.Str("1"),
		"dir":    fw.Str(dir),
	}
	st := h.mustUp(localCommandToken, nil, prog, stepCreate)
	next := with(prog, "stdin", fw.Str("2"))
	_, err := h.update(localCommandToken, st, h.check(localCommandToken, next), false)
	noInitFailed(t, err)
	for i := 0; i < 2; i++ {
		after, did, err := h.up(localCommandToken, st, next)
		if err == nil || did != stepUpdate || after != st {
			t.Fatalf("up %d: %v %s", i, err, did)
		}
	}
	wantLines(t, "update attempts", ran(t, dir), "attempt", "attempt", "attempt")
	if str(st.outputs, "stdout") != "v1" || str(st.inputs, "stdin") != "1" {
		t.Fatalf("old state changed: %v", st.outputs)
	}
	st = h.mustUp(localCommandToken, st, with(next, "update", fw.Str("echo v2")), stepUpdate)
	if str(st.outputs, "stdout") != "v2" {
		t.Fatalf("stdout %q", str(st.outputs, "stdout"))
	}
}

// TestConformance_RefreshUnchanged: Read returns the state as it is.
func TestConformance_RefreshUnchanged(t *testing.T) {
	// infer Read: the command resources implement no CustomRead, so "We now
	// just return them as is" (ID, properties and inputs unchanged).
	h := newHarness(t)
	dir := t.TempDir()
	for _, token := range []string{localCommandToken, remoteCommandToken, copyToRemoteToken} {
		var st *resState
		if token == localCommandToken {
			st = h.mustUp(token, nil, fw.PropertyMap{"create": fw.Str("echo x; echo x >> ran"), "stdin": fw.Secret(fw.Str("s")), "dir": fw.Str(dir)}, stepCreate)
		} else {
			in := h.check(token, fw.PropertyMap{"connection": fw.Obj(testConn()), "create": fw.Str("true"), "remotePath": fw.Str("/x"), "source": textAsset(t, "t")})
			st = &resState{id: "abc", inputs: in, outputs: with(in, "stdout", fw.Str("o"), "stderr", fw.Str(""))}
		}
		resp := h.read(token, st)
		if resp.GetId() != st.id {
			t.Fatalf("%s: id %q", token, resp.GetId())
		}
		if got := h.unmarshal(resp.GetProperties()); !resource.NewProperty(got).DeepEquals(resource.NewProperty(st.outputs)) {
			t.Fatalf("%s: state changed by refresh:\n%v\n%v", token, got, st.outputs)
		}
		if got := h.unmarshal(resp.GetInputs()); !resource.NewProperty(got).DeepEquals(resource.NewProperty(st.inputs)) {
			t.Fatalf("%s: inputs changed by refresh", token)
		}
	}
	wantLines(t, "refresh ran nothing", ran(t, dir), "x")
}

// TestConformance_ConnectionDefaults: the connection's documented defaults.
func TestConformance_ConnectionDefaults(t *testing.T) {
	// schema: connection.user default "root"; port "Defaults to 22.";
	// dialErrorLimit "Default value is 10."; perDialTimeout "Default value is
	// 15 seconds." (remote/connection.go Annotate SetDefault).
	h := newHarness(t)
	in := h.check(remoteCommandToken, fw.PropertyMap{"connection": fw.Obj(fw.PropertyMap{"host": fw.Str("h")})})
	c, _ := fw.GetObject(in, "connection")
	if fw.StringOr(c, "user", "") != "root" || fw.IntOr(c, "port", 0) != 22 ||
		fw.IntOr(c, "dialErrorLimit", 0) != 10 || fw.IntOr(c, "perDialTimeout", 0) != 15 {
		t.Fatalf("defaults: %v", c)
	}
}

// recordDelays makes the dial retries wait no time and records the waits.
func recordDelays(t *testing.T) func() []time.Duration {
	t.Helper()
	var mu sync.Mutex
	var waits []time.Duration
	old := retryAfter
	retryAfter = func(d time.Duration) <-chan time.Time {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		c := make(chan time.Time, 1)
		c <- time.Now()
		return c
	}
	t.Cleanup(func() { retryAfter = old })
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

// closedPort returns a local port where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestConformance_DialRetry: the dial retry schedule and the error limit.
func TestConformance_DialRetry(t *testing.T) {
	// remote/connection.go dialWithRetry: retry.Until with the SDK's default
	// Acceptor (sdk/go/common/util/retry: DefaultDelay 100ms, DefaultBackoff
	// 1.5, DefaultMaxDelay 5s); reachedDialingErrorLimit: `dialErrorLimit >
	// -1 && dials > dialErrorLimit` fails, with "after %d failed attempts: %w"
	// where %d is the try index (dials-1); -1 is unlimited. schema:
	// dialErrorLimit — "Max allowed errors on trying to dial the remote host.
	// -1 set count to unlimited."
	if retry.DefaultDelay != 100*time.Millisecond || retry.DefaultBackoff != 1.5 || retry.DefaultMaxDelay != 5*time.Second {
		t.Fatalf("the SDK's retry defaults changed: %v %v %v", retry.DefaultDelay, retry.DefaultBackoff, retry.DefaultMaxDelay)
	}
	schedule := []time.Duration{
		100 * time.Millisecond, 150 * time.Millisecond, 225 * time.Millisecond, 337500 * time.Microsecond,
		506250 * time.Microsecond, 759375 * time.Microsecond, 1139062500, 1708593750, 2562890625, 3844335937,
		5 * time.Second, 5 * time.Second, 5 * time.Second,
	}
	boom := errors.New("boom")
	cases := []struct {
		name      string
		limit     int
		succeedAt int // the dial that succeeds; 0 = never
		wantDials int
		wantErr   string
	}{
		{"limit 0: one dial, no retry", 0, 0, 1, "after 0 failed attempts: boom"},
		{"limit 1: two dials", 1, 0, 2, "after 1 failed attempts: boom"},
		{"limit 10 (default): eleven dials", 10, 0, 11, "after 10 failed attempts: boom"},
		{"limit 13: the whole schedule, capped at 5s", 13, 0, 14, "after 13 failed attempts: boom"},
		{"success within the limit", 3, 3, 3, ""},
		{"unlimited (-1)", -1, 40, 40, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			waits := recordDelays(t)
			var statuses []string
			dials := 0
			v, err := withRetry(context.Background(), "Dial", c.limit, func(s string) { statuses = append(statuses, s) },
				func() (int, error) {
					dials++
					if dials == c.succeedAt {
						return 42, nil
					}
					return 0, boom
				})
			if dials != c.wantDials {
				t.Fatalf("dials %d, want %d", dials, c.wantDials)
			}
			if c.wantErr == "" {
				if err != nil || v != 42 {
					t.Fatalf("%v %v", v, err)
				}
			} else if err == nil || err.Error() != c.wantErr || !errors.Is(err, boom) {
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			got := waits()
			if len(got) != dials-1 {
				t.Fatalf("%d waits for %d dials", len(got), dials)
			}
			for i, d := range got {
				want := 5 * time.Second
				if i < len(schedule) {
					want = schedule[i]
				}
				if d != want {
					t.Fatalf("wait %d: %v, want %v (all: %v)", i+1, d, want, got)
				}
			}
			lim := fmt.Sprint(c.limit)
			if c.limit == -1 {
				lim = "inf"
			}
			if len(statuses) != len(got) || (len(statuses) > 0 && statuses[0] != "Dial 1/"+lim+" failed: retrying") {
				t.Fatalf("statuses %q", statuses)
			}
		})
	}

	t.Run("a cancelled context stops an unlimited retry", func(t *testing.T) {
		recordDelays(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		instant := retryAfter
		retryAfter = func(d time.Duration) <-chan time.Time {
			if ctx.Err() != nil {
				return nil // never fires: only the cancellation can end the wait
			}
			return instant(d)
		}
		dials := 0
		_, err := withRetry(ctx, "Dial", -1, nil, func() (int, error) {
			if dials++; dials == 5 {
				cancel()
			}
			return 0, boom
		})
		if !errors.Is(err, context.Canceled) || dials != 5 {
			t.Fatalf("%v after %d dials", err, dials)
		}
	})

	t.Run("a real dial to a closed port, through the plugin", func(t *testing.T) {
		waits := recordDelays(t)
		h := newHarness(t)
		t.Setenv("SSH_AUTH_SOCK", "")
		m := startSSHD(t).connection()
		m["port"], m["dialErrorLimit"] = fw.Num(float64(closedPort(t))), fw.Num(2)
		_, _, err := h.up(remoteCommandToken, nil, fw.PropertyMap{"connection": fw.Obj(m), "create": fw.Str("true")})
		if err == nil || !strings.Contains(err.Error(), "after 2 failed attempts: ") || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("error %v", err)
		}
		if got := waits(); !slices.Equal(got, schedule[:2]) {
			t.Fatalf("waits %v", got)
		}
		var statuses []string
		for _, s := range h.engine.messages(pulumirpc.LogSeverity_INFO) {
			if strings.HasPrefix(s, "Dial ") {
				statuses = append(statuses, s)
			}
		}
		wantLines(t, "statuses", statuses, "Dial 1/2 failed: retrying", "Dial 2/2 failed: retrying")
	})
}

// TestConformance_CopyToRemote: CopyToRemote over SFTP.
func TestConformance_CopyToRemote(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	s := startSSHD(t)
	h := newHarness(t)
	local := filepath.Join(t.TempDir(), "consul.bin")
	if err := os.WriteFile(local, []byte("binary v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileAsset := func() resource.PropertyValue {
		a, err := asset.FromPath(local)
		if err != nil {
			t.Fatal(err)
		}
		return resource.NewProperty(a)
	}
	prog := func(remotePath string, source resource.PropertyValue) fw.PropertyMap {
		return fw.PropertyMap{"connection": fw.Obj(s.connection()), "remotePath": fw.Str(remotePath), "source": source}
	}

	// schema: remotePath — "Any necessary parent directories will be created automatically."
	t.Run("file asset to a new nested path", func(t *testing.T) {
		dest := filepath.Join(s.dir, "a", "b", "c", "consul")
		h.mustUp(copyToRemoteToken, nil, prog(dest, fileAsset()), stepCreate)
		if got := readFile(t, dest); got != "binary v1" {
			t.Fatalf("content %q", got)
		}
	})
	// schema: remotePath — "When the remote path is an existing directory,
	// the source file or directory will be copied into that directory."
	t.Run("file asset onto an existing directory lands inside it", func(t *testing.T) {
		dest := filepath.Join(s.dir, "existing")
		if err := os.MkdirAll(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		h.mustUp(copyToRemoteToken, nil, prog(dest, fileAsset()), stepCreate)
		if got := readFile(t, filepath.Join(dest, "consul.bin")); got != "binary v1" {
			t.Fatalf("content %q", got)
		}
	})
	// schema: remotePath — "When the source is a file and the remote path is
	// an existing file, that file will be overwritten."
	t.Run("file asset onto an existing file overwrites it", func(t *testing.T) {
		dest := filepath.Join(s.dir, "old-file")
		if err := os.WriteFile(dest, []byte("old content that is longer"), 0o644); err != nil {
			t.Fatal(err)
		}
		h.mustUp(copyToRemoteToken, nil, prog(dest, fileAsset()), stepCreate)
		if got := readFile(t, dest); got != "binary v1" {
			t.Fatalf("content %q", got)
		}
	})
	// schema: source — "It must be a FileAsset, StringAsset, or a FileArchive."
	t.Run("text asset", func(t *testing.T) {
		dest := filepath.Join(s.dir, "t", "x.txt")
		h.mustUp(copyToRemoteToken, nil, prog(dest, textAsset(t, "hello 'text'\n")), stepCreate)
		if got := readFile(t, dest); got != "hello 'text'\n" {
			t.Fatalf("content %q", got)
		}
	})
	// copyController.go copyTextContent: "remote path %s is a directory; when
	// using a text asset, remotePath must be a file path".
	t.Run("text asset onto a directory is an error", func(t *testing.T) {
		st, _, err := h.up(copyToRemoteToken, nil, prog(s.dir, textAsset(t, "x")))
		noInitFailed(t, err)
		if st != nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("%v %v", st, err)
		}
	})
	// copyController.go Update: `needCopy := news.hash() != olds.hash() ||
	// news.RemotePath != olds.RemotePath`; Diff: only triggers replaces;
	// Delete is infer's default (nothing: the remote file stays).
	t.Run("update copies only when the asset or remotePath changed; delete leaves the file", func(t *testing.T) {
		dest := filepath.Join(s.dir, "u", "file")
		st := h.mustUp(copyToRemoteToken, nil, prog(dest, textAsset(t, "v1")), stepCreate)
		tamper := func(p string) {
			if err := os.WriteFile(p, []byte("tampered"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		tamper(dest)
		conn2 := with(s.connection(), "perDialTimeout", fw.Num(20))
		st = h.mustUp(copyToRemoteToken, st, with(prog(dest, textAsset(t, "v1")), "connection", fw.Obj(conn2)), stepUpdate)
		if got := readFile(t, dest); got != "tampered" {
			t.Fatalf("a connection change copied again: %q", got)
		}
		st = h.mustUp(copyToRemoteToken, st, prog(dest, textAsset(t, "v2")), stepUpdate)
		if got := readFile(t, dest); got != "v2" {
			t.Fatalf("a source change did not copy: %q", got)
		}
		dest2 := filepath.Join(s.dir, "u2", "file")
		st = h.mustUp(copyToRemoteToken, st, prog(dest2, textAsset(t, "v2")), stepUpdate)
		if got := readFile(t, dest2); got != "v2" {
			t.Fatalf("a remotePath change did not copy: %q", got)
		}
		tamper(dest2)
		st = h.mustUp(copyToRemoteToken, st, with(prog(dest2, textAsset(t, "v2")), "triggers", strs("1")), stepReplace)
		if got := readFile(t, dest2); got != "v2" {
			t.Fatalf("a replacement did not copy: %q", got)
		}
		if err := h.delete(copyToRemoteToken, st); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, dest2); got != "v2" {
			t.Fatalf("delete touched the remote file: %q", got)
		}
	})
	// copyController.go copyToRemote: sftp.NewClient over the SSH client —
	// a host without the sftp subsystem cannot be copied to.
	t.Run("a host without the sftp subsystem fails clearly", func(t *testing.T) {
		s2 := startSSHD(t, sshdOptions{noSFTP: true})
		dest := filepath.Join(s2.dir, "never")
		_, _, err := h.up(copyToRemoteToken, nil, fw.PropertyMap{
			"connection": fw.Obj(s2.connection()), "remotePath": fw.Str(dest), "source": textAsset(t, "x"),
		})
		noInitFailed(t, err)
		want := fmt.Sprintf("the SSH server at 127.0.0.1:%d has no sftp subsystem (enable `Subsystem sftp` in sshd_config)", s2.port)
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(dest); err == nil {
			t.Fatal("copied without sftp")
		}
	})
}

// TestConformance_UnsupportedInputsFailAtCheck: what this build refuses.
func TestConformance_UnsupportedInputsFailAtCheck(t *testing.T) {
	// schema: assetPaths / archivePaths (local) and a FileArchive source
	// (CopyToRemote) are upstream features this build leaves out: each must
	// fail at Check naming the property, never behave differently.
	h := newHarness(t)
	arch, err := archive.FromPath(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		token, prop string
		news        fw.PropertyMap
	}{
		{localCommandToken, "assetPaths", fw.PropertyMap{"create": fw.Str("true"), "assetPaths": strs("*.txt")}},
		{localCommandToken, "archivePaths", fw.PropertyMap{"create": fw.Str("true"), "archivePaths": strs("**")}},
		{copyToRemoteToken, "source", fw.PropertyMap{"connection": fw.Obj(testConn()), "remotePath": fw.Str("/x"), "source": resource.NewProperty(arch)}},
	}
	for _, c := range cases {
		_, failures := h.checkFailures(c.token, c.news)
		if len(failures) != 1 || failures[0].GetProperty() != c.prop || !strings.Contains(failures[0].GetReason(), c.prop) {
			t.Errorf("%s %s: failures %v", c.token, c.prop, failures)
		}
	}
}
