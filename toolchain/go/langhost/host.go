package main

// The LanguageRuntime gRPC service. Methods not defined here (code generation, Pack, Link,
// templates, runtime option prompts) answer "unimplemented" through the embedded
// UnimplementedLanguageRuntimeServer; the engine only needs them for `pulumi new`, `convert`,
// `package` commands and conformance tests.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// stopGrace is how long a node process gets to exit after SIGINT (on Cancel or when the engine
// drops the request) before it is killed.
const stopGrace = 5 * time.Second

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string // from the command line or Handshake; passed to node as --engine

	// cancelled when the engine calls Cancel: every node process we started is then interrupted.
	cancelCtx context.Context
	cancelAll context.CancelFunc
}

func newHost(engineAddress string) *host {
	ctx, cancel := context.WithCancel(context.Background())
	return &host{engineAddress: engineAddress, cancelCtx: ctx, cancelAll: cancel}
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake is the newer way for the engine to introduce itself (instead of the command-line
// argument). Only the engine address matters to us.
func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// Cancel asks running programs to stop; the engine calls it on Ctrl-C and before shutting us down.
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelAll()
	return &emptypb.Empty{}, nil
}

func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	return fallback
}

// GetRequiredPackages reports the provider plugins declared by the program's npm packages.
func (h *host) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	res := scanPlugins(programDir(req.GetInfo(), "."))
	warnScan(res)
	return &pulumirpc.GetRequiredPackagesResponse{Packages: res.packages}, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages (no parameterization); engines use
// it only when GetRequiredPackages is missing, but it costs nothing to answer.
func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	res := scanPlugins(programDir(req.GetInfo(), req.GetPwd()))
	warnScan(res)
	var plugins []*pulumirpc.PluginDependency
	for _, p := range res.packages {
		if p.Parameterization != nil || p.Extension != nil {
			continue // not expressible as a plain plugin
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// warnScan shows scan problems on our stderr, which the engine displays: a package that says it
// needs a plugin but not which one is a real mistake the user should see.
func warnScan(res scanResult) {
	for _, p := range res.problems {
		fmt.Fprintf(os.Stderr, "warning: while looking for provider plugins: %v\n", p)
	}
	if err := sdkMajorConflict(res.sdkVersions); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
	}
}

// startCommand prepares a node (or npm) process that is interrupted when ctx ends or Cancel is
// called, and killed if it has not exited stopGrace later. The returned func releases the context
// and must be called once the process has been waited for.
func (h *host) startCommand(ctx context.Context, bin string, args ...string) (*exec.Cmd, func()) {
	cmdCtx, stop := context.WithCancel(h.cancelCtx)
	unhook := context.AfterFunc(ctx, stop)
	cmd := exec.CommandContext(cmdCtx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = stopGrace
	return cmd, func() { unhook(); stop() }
}

// resolveModule asks node where a module resolves to from dir, so we use exactly the copy of
// @pulumi/pulumi that the program (or policy pack) has installed.
func resolveModule(ctx context.Context, nodeBin, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, nodeBin, "-e", resolveScript(module))
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("in %s: %s", dir, msg)
	}
	return strings.TrimSpace(out.String()), nil
}

// Run executes the Pulumi program: node <nodeargs> .../@pulumi/pulumi/cmd/run <flags> <entry>.
// Failures of the program are returned in RunResponse.Error (not as gRPC errors), which is how the
// engine tells "the program failed" from "the language host is broken".
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	fail := func(format string, a ...any) (*pulumirpc.RunResponse, error) {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf(format, a...)}, nil
	}
	if req.GetAttachDebugger() {
		return fail("attaching a debugger is not supported by this language host")
	}
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return fail("%v", err)
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fail("could not find node on $PATH: %v", err)
	}
	dir := programDir(req.GetInfo(), req.GetPwd())
	script, err := resolveModule(ctx, nodeBin, dir, runScript)
	if err != nil {
		return fail("could not locate the Pulumi Node.js SDK (run `pulumi install` or `npm install`): %v", err)
	}
	cfg, secretKeys, err := configEnvValues(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return fail("could not encode the stack configuration: %v", err)
	}

	cmd, release := h.startCommand(ctx, nodeBin, runArgs(req, opts.nodeArgs, script, h.engine())...)
	defer release()
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), configEnv+"="+cfg, configSecretsEnv+"="+secretKeys)
	cmd.Env = append(cmd.Env, opts.typescriptEnv()...)
	// Our stdout/stderr go to the engine, which shows them to the user. Hiding the *os.File behind
	// a plain io.Writer makes exec copy through a pipe instead of handing node our descriptors:
	// node may switch its stdio to non-blocking mode, which would then affect us too.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}

	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case h.cancelCtx.Err() != nil || ctx.Err() != nil:
		return fail("the program was cancelled")
	case errors.As(err, &exitErr) && exitErr.ExitCode() == bailExitCode:
		// The runner already printed an actionable message; tell the engine not to add another.
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return fail("Program exited with non-zero exit code: %d", exitErr.ExitCode())
	default:
		return fail("could not run node: %v", err)
	}
}

// RunPlugin runs a plugin written in node from its directory. The case the project needs is a
// policy pack (kind "analyzer", started by `pulumi preview --policy-pack DIR`), which runs
// @pulumi/pulumi/cmd/run-policy-pack from DIR's own node_modules; other kinds use cmd/run-plugin.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	if req.GetAttachDebugger() {
		return errors.New("attaching a debugger is not supported by this language host")
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on $PATH: %w", err)
	}
	dir := programDir(req.GetInfo(), req.GetPwd())
	scriptName := runPluginScript
	if req.GetKind() == analyzerKind {
		scriptName = runPolicyScript
	}
	script, err := resolveModule(ctx, nodeBin, dir, scriptName)
	if err != nil {
		return fmt.Errorf("could not locate %s (run npm install in %s): %w", scriptName, dir, err)
	}

	env := req.GetEnv() // the engine passes the complete environment for the plugin
	if len(env) == 0 {
		env = os.Environ()
	}
	env = append(env, opts.typescriptEnv()...)

	cmd, release := h.startCommand(ctx, nodeBin, pluginArgs(req.GetKind(), opts.nodeArgs, script, dir, req.GetArgs())...)
	defer release()
	cmd.Stderr = stderr

	if req.GetKind() != analyzerKind {
		cmd.Dir = req.GetPwd()
		cmd.Env = env
		cmd.Stdout = stdout
		err = cmd.Run()
	} else {
		err = h.runPolicyPack(ctx, cmd, dir, env, stdout)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("plugin in %s exited with non-zero exit code: %d", dir, exitErr.ExitCode())
		}
		return fmt.Errorf("plugin in %s: %w", dir, err)
	}
	return closer.Close()
}

// runPolicyPack starts a node policy pack behind the SDK's PolicyProxy.
//
// Why a proxy: @pulumi/policy reads the stack (name, project, config, dry-run) from environment
// variables when it starts, but through RunPlugin the engine only tells an analyzer about the stack
// afterwards, with a ConfigureStack call on the analyzer's gRPC port. So the proxy is what the
// engine first talks to: it prints its own port, takes ConfigureStack, and only then do we start
// node with the matching environment; the proxy then reads the real port node prints and forwards
// every further call to it. It also waits for node to exit.
func (h *host) runPolicyPack(ctx context.Context, cmd *exec.Cmd, dir string, env []string, stdout io.Writer) error {
	proxy, nodeStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("could not start the policy pack proxy: %w", err)
	}
	stack, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the stack configuration: %w", err)
	}
	if stack != nil { // nil when the engine asks for analyzer info without a stack (policy publish)
		set := func(k, v string) {
			if v != "" {
				env = append(env, k+"="+v)
			}
		}
		set("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
		set("PULUMI_NODEJS_PROJECT", stack.GetProject())
		set("PULUMI_NODEJS_STACK", stack.GetStack())
		set("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
		cfg, secretKeys, err := configEnvValues(stack.GetConfig(), stack.GetConfigSecretKeys())
		if err != nil {
			return fmt.Errorf("could not encode the stack configuration: %w", err)
		}
		set(configEnv, cfg)
		set(configSecretsEnv, secretKeys)
	}
	// Policy packs have always run with the policy pack directory as working directory.
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = nodeStdout
	if err := cmd.Start(); err != nil {
		return err
	}
	return proxy.Attach(ctx, cmd) // returns when node exits
}

// InstallDependencies runs `npm install` in the program (or plugin) directory, streaming npm's
// output back to the CLI (`pulumi install`, `pulumi new`, `pulumi policy publish`).
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()

	if _, err := parseOptions(req.GetInfo().GetOptions().AsMap()); err != nil {
		return err
	}
	npmBin, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("could not find npm on $PATH: %w", err)
	}
	dir := programDir(req.GetInfo(), req.GetDirectory())
	fmt.Fprintf(stdout, "Installing dependencies...\n\n")
	cmd, release := h.startCommand(server.Context(), npmBin, "install")
	defer release()
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s failed: %w", dir, err)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// About reports node and npm for `pulumi about`. Version lookups are best effort.
func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on $PATH: %w", err)
	}
	versionOf := func(bin string) string {
		out, err := exec.CommandContext(ctx, bin, "--version").Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	meta := map[string]string{"packagemanager": "npm"}
	if npmBin, err := exec.LookPath("npm"); err == nil {
		meta["packagemanagerVersion"] = versionOf(npmBin)
	}
	return &pulumirpc.AboutResponse{Executable: nodeBin, Version: versionOf(nodeBin), Metadata: meta}, nil
}

// GetProgramDependencies lists the program's npm dependencies with their installed versions.
func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	deps, err := programDependencies(programDir(req.GetInfo(), req.GetPwd()), req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("could not read the program's dependencies: %w", err)
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}
