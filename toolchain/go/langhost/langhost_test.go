package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// writeFile creates path (and its parents) with the given content.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func pkgJSON(t *testing.T, v map[string]any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScanPlugins(t *testing.T) {
	dir := t.TempDir()
	nm := filepath.Join(dir, "node_modules")
	// First-party provider: name and version come from the package itself.
	writeFile(t, filepath.Join(nm, "@pulumi", "random", "package.json"), pkgJSON(t, map[string]any{
		"name": "@pulumi/random", "version": "4.21.1", "pulumi": map[string]any{"resource": true},
	}))
	// Third-party provider with explicit plugin name, version and server.
	writeFile(t, filepath.Join(nm, "@acme", "thing", "package.json"), pkgJSON(t, map[string]any{
		"name": "@acme/thing", "version": "1.0.0",
		"pulumi": map[string]any{"resource": true, "name": "acme", "version": "v2.3.4", "server": "github://acme"},
	}))
	// Nested copy of a provider in another version: both versions are needed.
	writeFile(t, filepath.Join(nm, "@acme", "thing", "node_modules", "@pulumi", "random", "package.json"),
		pkgJSON(t, map[string]any{"name": "@pulumi/random", "version": "4.0.0", "pulumi": map[string]any{"resource": true}}))
	// Duplicate of an already-seen name@version: reported once.
	writeFile(t, filepath.Join(nm, "other", "node_modules", "@pulumi", "random", "package.json"),
		pkgJSON(t, map[string]any{"name": "@pulumi/random", "version": "4.21.1", "pulumi": map[string]any{"resource": true}}))
	// The SDK itself: not a plugin, but its version is recorded.
	writeFile(t, filepath.Join(nm, "@pulumi", "pulumi", "package.json"),
		pkgJSON(t, map[string]any{"name": "@pulumi/pulumi", "version": "3.248.0"}))
	// resource=false and no pulumi key: not plugins.
	writeFile(t, filepath.Join(nm, "@pulumi", "policy", "package.json"),
		pkgJSON(t, map[string]any{"name": "@pulumi/policy", "version": "1.21.0", "pulumi": map[string]any{"resource": false}}))
	writeFile(t, filepath.Join(nm, "lodash", "package.json"), pkgJSON(t, map[string]any{"name": "lodash", "version": "4.17.21"}))
	// Invalid JSON somewhere in node_modules: skipped silently.
	writeFile(t, filepath.Join(nm, "fixtures", "broken", "package.json"), "{not json")
	// Third-party plugin without a name: a problem, not a plugin.
	writeFile(t, filepath.Join(nm, "noname", "package.json"),
		pkgJSON(t, map[string]any{"name": "noname", "version": "1.0.0", "pulumi": map[string]any{"resource": true}}))
	// package.json outside node_modules (the program's own) is not a plugin source.
	writeFile(t, filepath.Join(dir, "package.json"), pkgJSON(t, map[string]any{
		"name": "@pulumi/self", "version": "9.9.9", "pulumi": map[string]any{"resource": true},
	}))
	// A nested policy pack's dependencies are not the program's.
	writeFile(t, filepath.Join(dir, "policy", "PulumiPolicy.yaml"), "runtime: nodejs\n")
	writeFile(t, filepath.Join(dir, "policy", "node_modules", "@pulumi", "aws", "package.json"),
		pkgJSON(t, map[string]any{"name": "@pulumi/aws", "version": "7.0.0", "pulumi": map[string]any{"resource": true}}))
	// A symlink loop must not hang the walk.
	if err := os.Symlink(nm, filepath.Join(nm, "loop")); err != nil {
		t.Fatal(err)
	}

	res := scanPlugins(dir)
	var got []string
	for _, p := range res.packages {
		got = append(got, p.Kind+":"+p.Name+"@"+p.Version+"|"+p.Server)
	}
	want := []string{
		"resource:acme@v2.3.4|github://acme",
		"resource:random@v4.0.0|",
		"resource:random@v4.21.1|",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("packages = %v, want %v", got, want)
	}
	if len(res.problems) != 1 || !strings.Contains(res.problems[0].Error(), "noname") {
		t.Errorf("problems = %v, want one about package noname", res.problems)
	}
	if len(res.sdkVersions) != 1 {
		t.Errorf("sdkVersions = %v, want the one @pulumi/pulumi", res.sdkVersions)
	}
}

func TestPluginFromPackageParameterized(t *testing.T) {
	var info packageJSON
	err := json.Unmarshal([]byte(`{"name":"@x/y","version":"0.1.0","pulumi":{"resource":true,"name":"terraform-provider",
		"version":"0.8.0","parameterization":{"name":"y","version":"0.1.0","value":"aGVsbG8="}}}`), &info)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := pluginFromPackage(info)
	if err != nil {
		t.Fatal(err)
	}
	if dep.Name != "terraform-provider" || dep.Version != "v0.8.0" {
		t.Errorf("got %s@%s", dep.Name, dep.Version)
	}
	if p := dep.Parameterization; p == nil || p.Name != "y" || string(p.Value) != "hello" {
		t.Errorf("parameterization = %v", p)
	}
}

func TestSDKMajorConflict(t *testing.T) {
	if err := sdkMajorConflict(map[string]string{"a": "3.1.0", "b": "3.248.0"}); err != nil {
		t.Errorf("same major should be fine: %v", err)
	}
	if err := sdkMajorConflict(map[string]string{"a": "2.1.0", "b": "3.248.0"}); err == nil {
		t.Error("different majors should warn")
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil)
	if err != nil || !o.typescript || o.tsconfig != "" || len(o.nodeArgs) != 0 {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	o, err = parseOptions(map[string]any{
		"typescript": false, "tsconfig": "tsconfig.pulumi.json",
		"nodeargs": "--max-old-space-size=4096  --trace-warnings", "packagemanager": "npm",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.typescript || o.tsconfig != "tsconfig.pulumi.json" ||
		!reflect.DeepEqual(o.nodeArgs, []string{"--max-old-space-size=4096", "--trace-warnings"}) {
		t.Errorf("parsed = %+v", o)
	}
	if got := o.typescriptEnv(); !reflect.DeepEqual(got, []string{"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.pulumi.json"}) {
		t.Errorf("typescriptEnv = %v", got)
	}
	for _, bad := range []map[string]any{
		{"typescript": "yes"}, {"tsconfig": 1.0}, {"nodeargs": true}, {"packagemanager": "yarn"},
	} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("parseOptions(%v) should fail", bad)
		}
	}
}

func TestRunArgs(t *testing.T) {
	opts, err := structpb.NewStruct(map[string]any{"typescript": true})
	if err != nil {
		t.Fatal(err)
	}
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1111",
		Organization:   "organization",
		Project:        "proj",
		Stack:          "dev",
		DryRun:         true,
		Parallel:       16,
		Args:           []string{"extra"},
		Info: &pulumirpc.ProgramInfo{
			RootDirectory: "/p", ProgramDirectory: "/p/src", EntryPoint: "index.ts", Options: opts,
		},
	}
	got := runArgs(req, []string{"--inspect"}, "/p/node_modules/@pulumi/pulumi/cmd/run/index.js", "127.0.0.1:2222")
	want := []string{
		"--inspect", "/p/node_modules/@pulumi/pulumi/cmd/run/index.js",
		"--monitor", "127.0.0.1:1111", "--engine", "127.0.0.1:2222", "--organization", "organization",
		"--project", "proj", "--root-directory", "/p", "--stack", "dev", "--pwd", "/p/src",
		"--dry-run", "--parallel", "16", "index.ts", "extra",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runArgs =\n %q\nwant\n %q", got, want)
	}

	// Minimal request: no empty flags, entry point defaults to ".".
	got = runArgs(&pulumirpc.RunRequest{MonitorAddress: "m"}, nil, "run.js", "")
	want = []string{"run.js", "--monitor", "m", "."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runArgs(minimal) = %q, want %q", got, want)
	}
}

func TestPluginArgs(t *testing.T) {
	got := pluginArgs("analyzer", nil, "rpp.js", "/pack", []string{"127.0.0.1:3333"})
	if want := []string{"rpp.js", "127.0.0.1:3333", "/pack"}; !reflect.DeepEqual(got, want) {
		t.Errorf("analyzer args = %q, want %q", got, want)
	}
	got = pluginArgs("resource", []string{"--x"}, "rp.js", "/plug", []string{"a", "b"})
	if want := []string{"--x", "rp.js", "/plug", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("resource args = %q, want %q", got, want)
	}
}

func TestConfigEnvValues(t *testing.T) {
	cfg, secrets, err := configEnvValues(map[string]string{"proj:x": "y", "aws:region": "eu-west-1",
		"old:config:k": "v"}, []string{"proj:s"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(cfg), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"proj:config:x": "y", "aws:config:region": "eu-west-1", "old:config:k": "v"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("config = %v, want %v", m, want)
	}
	if secrets != `["proj:s"]` {
		t.Errorf("secrets = %s", secrets)
	}
	cfg, secrets, err = configEnvValues(nil, nil)
	if err != nil || cfg != "{}" || secrets != "[]" {
		t.Errorf("empty = %s %s %v", cfg, secrets, err)
	}
	if _, _, err := configEnvValues(map[string]string{"nonamespace": "v"}, nil); err == nil {
		t.Error("a key without namespace should fail")
	}
}

func TestResolveScriptIsOneLine(t *testing.T) {
	s := resolveScript("@pulumi/pulumi/cmd/run")
	if strings.Contains(s, "\n") || !strings.Contains(s, `require.resolve("@pulumi/pulumi/cmd/run")`) {
		t.Errorf("resolveScript = %s", s)
	}
}

func TestProgramDependencies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "package.json"), pkgJSON(t, map[string]any{
		"name":            "prog",
		"dependencies":    map[string]any{"@pulumi/pulumi": "3.248.0", "missing": "^1.0.0"},
		"devDependencies": map[string]any{"typescript": "^5.4.0"},
	}))
	nm := filepath.Join(dir, "node_modules")
	writeFile(t, filepath.Join(nm, "@pulumi", "pulumi", "package.json"), `{"name":"@pulumi/pulumi","version":"3.248.0"}`)
	writeFile(t, filepath.Join(nm, "typescript", "package.json"), `{"name":"typescript","version":"5.9.3"}`)
	writeFile(t, filepath.Join(nm, "typescript", "node_modules", "inner", "package.json"), `{"name":"inner","version":"0.0.1"}`)
	writeFile(t, filepath.Join(nm, ".package-lock.json"), `{}`)

	direct, err := programDependencies(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []dependency{{"@pulumi/pulumi", "3.248.0"}, {"missing", "^1.0.0"}, {"typescript", "5.9.3"}}
	if !reflect.DeepEqual(direct, want) {
		t.Errorf("direct = %v, want %v", direct, want)
	}
	all, err := programDependencies(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	want = []dependency{{"@pulumi/pulumi", "3.248.0"}, {"inner", "0.0.1"}, {"typescript", "5.9.3"}}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("transitive = %v, want %v", all, want)
	}
	if _, err := programDependencies(t.TempDir(), false); err == nil {
		t.Error("a directory without package.json should fail")
	}
}
