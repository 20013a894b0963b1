package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

func conn() fw.PropertyMap {
	return fw.PropertyMap{"host": fw.Str("10.0.0.1"), "privateKey": fw.Str("k")}
}

func TestCheckConnectionDefaultsKeepSecret(t *testing.T) {
	news := fw.PropertyMap{"create": fw.Str("true"), "connection": fw.Secret(fw.Obj(conn()))}
	in, failures, err := (&command{remote: true}).Check(context.Background(), fw.CheckRequest{News: news})
	if err != nil || len(failures) != 0 {
		t.Fatalf("%v %v", failures, err)
	}
	if !in["connection"].IsSecret() {
		t.Fatal("connection must stay secret")
	}
	c, _ := fw.GetObject(in, "connection")
	if fw.IntOr(c, "port", 0) != 22 || fw.StringOr(c, "user", "") != "root" ||
		fw.IntOr(c, "dialErrorLimit", 0) != 10 || fw.IntOr(c, "perDialTimeout", 0) != 15 {
		t.Fatalf("defaults not applied: %v", c)
	}
}

func TestCheckFailures(t *testing.T) {
	cases := map[string]fw.PropertyMap{
		"no connection": {"create": fw.Str("x")},
		"no host":       {"connection": fw.Obj(fw.PropertyMap{"user": fw.Str("u")})},
		"bad logging":   {"connection": fw.Obj(conn()), "logging": fw.Str("all")},
		"bad env":       {"connection": fw.Obj(conn()), "environment": fw.Obj(fw.PropertyMap{"A": fw.Num(1)})},
		"bad port":      {"connection": fw.Obj(fw.PropertyMap{"host": fw.Str("h"), "port": fw.Num(1.5)})},
		"bad limit":     {"connection": fw.Obj(fw.PropertyMap{"host": fw.Str("h"), "dialErrorLimit": fw.Num(-2)})},
	}
	for name, news := range cases {
		_, failures, _ := (&command{remote: true}).Check(context.Background(), fw.CheckRequest{News: news})
		if len(failures) == 0 {
			t.Errorf("%s: expected a failure", name)
		}
	}
	_, failures, _ := (&command{}).Check(context.Background(), fw.CheckRequest{News: fw.PropertyMap{"assetPaths": fw.Str("x")}})
	if len(failures) == 0 {
		t.Error("assetPaths must be refused")
	}
}

func TestRedactorAndTail(t *testing.T) {
	r := newRedactor([]string{"hunter2", "ab", "line one\nline two"})
	if got := r.mask("pw=hunter2 ab line two"); got != "pw=[secret] ab [secret]" {
		t.Fatal(got)
	}
	long := strings.Repeat("x\n", 100) + "last"
	if got := tail(long); strings.Count(got, "\n") != stderrTail-1 || !strings.HasSuffix(got, "last") {
		t.Fatalf("tail: %q", got)
	}
	if got := shellQuote(`it's`); got != `'it'"'"'s'` {
		t.Fatal(got)
	}
}

func common() fw.Common { return fw.Common{Name: "c", Host: &fw.Host{}} }

func TestLocalLifecycle(t *testing.T) {
	dir := t.TempDir()
	c := &command{}
	ctx := context.Background()
	inputs := fw.PropertyMap{
		"create":      fw.Str(`echo "created $GREETING"; cat; echo warn >&2; echo c >> log`),
		"update":      fw.Str(`echo "updated after: $PULUMI_COMMAND_STDOUT"; echo u >> log`),
		"delete":      fw.Str(`echo "deleted $GREETING" >> log`),
		"dir":         fw.Str(dir),
		"stdin":       fw.Secret(fw.Str("from-stdin")),
		"environment": fw.Obj(fw.PropertyMap{"GREETING": fw.Str("hi")}),
	}
	id, out, err := c.Create(ctx, fw.CreateRequest{Common: common(), Inputs: inputs})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "c") || len(id) != 9 {
		t.Errorf("id %q", id)
	}
	if out["stdout"].IsSecret() || out["stderr"].IsSecret() || !out["stdin"].IsSecret() {
		t.Fatal("only the secret input itself stays secret (as upstream)")
	}
	if s, _ := fw.GetString(out, "stdout"); s != "created hi\nfrom-stdin" {
		t.Fatalf("stdout %q", s)
	}
	if s, _ := fw.GetString(out, "stderr"); s != "warn" {
		t.Fatalf("stderr %q", s)
	}

	// A delete-only change is an update too: update runs with the previous stdout.
	news := fw.Copy(inputs)
	news["delete"] = fw.Str(`echo "deleted2 $GREETING" >> log`)
	out3, err := c.Update(ctx, fw.UpdateRequest{Common: common(), OldState: out, OldInputs: inputs, News: news})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := fw.GetString(out3, "stdout"); s != "updated after: created hi\nfrom-stdin" {
		t.Fatalf("update stdout %q", s)
	}

	// Delete runs with the state's environment.
	if err := c.Delete(ctx, fw.DeleteRequest{Common: common(), State: out3}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "log")); string(b) != "c\nu\ndeleted2 hi\n" {
		t.Fatalf("log %q", b)
	}
}

func TestLocalFailure(t *testing.T) {
	c := &command{}
	_, _, err := c.Create(context.Background(), fw.CreateRequest{Common: common(), Inputs: fw.PropertyMap{
		"create":      fw.Str(`echo one >&2; echo "two $TOKEN" >&2; exit 3`),
		"environment": fw.Obj(fw.PropertyMap{"TOKEN": fw.Secret(fw.Str("s3cr3t"))}),
	}})
	if err == nil {
		t.Fatal("expected an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "exited with code 3") || !strings.Contains(msg, "one\ntwo [secret]") || strings.Contains(msg, "s3cr3t") {
		t.Fatalf("error: %s", msg)
	}
	// A secret command is not shown.
	_, _, err = c.Create(context.Background(), fw.CreateRequest{Common: common(), Inputs: fw.PropertyMap{
		"create": fw.Secret(fw.Str(`false # pw=abc123`)),
	}})
	if err == nil || strings.Contains(err.Error(), "abc123") {
		t.Fatalf("error: %v", err)
	}
}

func TestPreview(t *testing.T) {
	c := &command{}
	pc := common()
	pc.Preview = true
	_, out, err := c.Create(context.Background(), fw.CreateRequest{Common: pc, Inputs: fw.PropertyMap{"create": fw.Str("exit 1")}})
	if err != nil || !out["stdout"].IsComputed() {
		t.Fatalf("%v %v", out, err)
	}
}

func resourceArray(vs ...resource.PropertyValue) resource.PropertyValue {
	return resource.NewProperty(vs)
}

func textAsset(t *testing.T, text string) resource.PropertyValue {
	t.Helper()
	a, err := asset.FromText(text)
	if err != nil {
		t.Fatal(err)
	}
	return resource.NewProperty(a)
}
