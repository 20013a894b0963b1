package main

// The pure parts of starting node: reading the project's runtime options, building the command
// line for @pulumi/pulumi's runner scripts and the environment they read. Kept free of I/O so they
// can be unit-tested.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Scripts inside the npm package @pulumi/pulumi. They are resolved with node's own module
// resolution from the program (or plugin) directory, so the copy of the SDK the program itself
// uses is the one that runs it.
const (
	runScript        = "@pulumi/pulumi/cmd/run"             // runs a Pulumi program
	runPolicyScript  = "@pulumi/pulumi/cmd/run-policy-pack" // runs a policy pack (analyzer plugin)
	runPluginScript  = "@pulumi/pulumi/cmd/run-plugin"      // runs any other plugin written in node
	analyzerKind     = "analyzer"                           // RunPluginRequest.Kind of a policy pack
	bailExitCode     = 32                                   // runner: "the user was already told what went wrong"
	configEnv        = "PULUMI_CONFIG"                      // JSON object of stack config, read by the SDK
	configSecretsEnv = "PULUMI_CONFIG_SECRET_KEYS"          // JSON array of config keys that are secret
)

// nodeOptions are the `runtime.options` a Pulumi.yaml (or PulumiPolicy.yaml) may set for nodejs.
type nodeOptions struct {
	// typescript: run .ts sources through the ts-node that ships with @pulumi/pulumi. Default true,
	// as upstream: the runner only registers ts-node when PULUMI_NODEJS_TYPESCRIPT=true, and then it
	// reads tsconfig.json from the program directory (or the file named by `tsconfig`).
	typescript bool
	tsconfig   string   // tsconfig: path of the tsconfig file, relative to the program directory
	nodeArgs   []string // nodeargs: extra options for node itself, e.g. --max-old-space-size=4096
	// packagemanager: only npm is implemented here; "auto" means npm too.
	packageManager string
}

// parseOptions validates the runtime options. Unknown options are ignored, as upstream does.
func parseOptions(opts map[string]any) (nodeOptions, error) {
	o := nodeOptions{typescript: true, packageManager: "npm"}
	if v, ok := opts["typescript"]; ok {
		b, ok := v.(bool)
		if !ok {
			return o, errors.New("runtime option typescript must be a boolean")
		}
		o.typescript = b
	}
	if v, ok := opts["tsconfig"]; ok {
		s, ok := v.(string)
		if !ok {
			return o, errors.New("runtime option tsconfig must be a string")
		}
		o.tsconfig = s
	}
	if v, ok := opts["nodeargs"]; ok {
		s, ok := v.(string)
		if !ok {
			return o, errors.New("runtime option nodeargs must be a string")
		}
		// Plain whitespace splitting: enough for flags such as --max-old-space-size=4096; quoting
		// is not interpreted (upstream uses a shell-like splitter).
		o.nodeArgs = strings.Fields(s)
	}
	if v, ok := opts["packagemanager"]; ok {
		s, ok := v.(string)
		if !ok {
			return o, errors.New("runtime option packagemanager must be a string")
		}
		switch s {
		case "", "auto", "npm":
		default:
			return o, fmt.Errorf("runtime option packagemanager=%q is not supported by this language host "+
				"(only npm)", s)
		}
	}
	return o, nil
}

// typescriptEnv is what the runner scripts read to decide whether to load ts-node.
func (o nodeOptions) typescriptEnv() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// runArgs builds node's arguments for Run: node options, the resolved cmd/run script, its flags,
// the entry point and any program arguments. The flag names are those the runner's argument parser
// knows (--monitor is the only one it requires; --sync is not passed: SDK 3.248.0 no longer uses
// the synchronous-invoke pipes, so the program talks to the engine's monitor directly).
func runArgs(req *pulumirpc.RunRequest, nodeArgs []string, scriptPath, engineAddress string) []string {
	args := append([]string{}, nodeArgs...)
	args = append(args, scriptPath)
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	info := req.GetInfo()
	flag("monitor", req.GetMonitorAddress())
	flag("engine", engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", info.GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", info.GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		flag("parallel", strconv.Itoa(int(req.GetParallel())))
	}
	// The entry point is relative to --pwd; "." means "the package.json main of the directory".
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

// pluginArgs builds node's arguments for RunPlugin. A policy pack's runner takes
// `<engine address> <policy pack dir>` (the extra arguments first, the directory last); the
// generic plugin runner takes the directory first.
func pluginArgs(kind string, nodeArgs []string, scriptPath, programDir string, extra []string) []string {
	args := append([]string{}, nodeArgs...)
	args = append(args, scriptPath)
	if kind == analyzerKind {
		args = append(args, extra...)
		return append(args, programDir)
	}
	args = append(args, programDir)
	return append(args, extra...)
}

// configEnvValues encodes the stack configuration for the SDK. Keys arrive as `<namespace>:<name>`;
// they are written in the older `<namespace>:config:<name>` form, which every @pulumi/pulumi version
// understands (newer ones accept both).
func configEnvValues(cfg map[string]string, secretKeys []string) (string, string, error) {
	legacy := make(map[string]string, len(cfg))
	for k, v := range cfg {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", "", err
		}
		legacy[key.Namespace()+":config:"+key.Name()] = v
	}
	cfgJSON, err := json.Marshal(legacy)
	if err != nil {
		return "", "", err
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretsJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return "", "", err
	}
	return string(cfgJSON), string(secretsJSON), nil
}

// resolveScript is the node snippet that prints where a module resolves to from the working
// directory. One line: no reason to depend on how a shell wrapper handles newlines.
func resolveScript(module string) string {
	m, _ := json.Marshal(module) // a JSON string is a valid JS string literal
	return fmt.Sprintf("try { console.log(require.resolve(%s)); } catch (e) { console.error(e.code === "+
		"'MODULE_NOT_FOUND' ? 'cannot find module ' + %s + ': are the dependencies installed (npm install)?' "+
		": e.message); process.exit(1); }", m, m)
}
