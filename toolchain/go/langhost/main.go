// Command pulumi-language-nodejs is consul-swarm's own Node.js language host for the Pulumi CLI.
//
// Why this exists: the CLI (built from github.com/pulumi/pulumi/pkg/v3) never runs a Node.js program
// itself. It starts a "language host" plugin named pulumi-language-nodejs, talks to it over gRPC
// (the LanguageRuntime service from github.com/pulumi/pulumi/sdk/v3/proto/go), and the host starts
// `node` with the runner script that ships inside the npm package @pulumi/pulumi. Upstream's host
// lives in a Go module the module proxy does not serve, so the project keeps this smaller one.
// See README.md for what is and is not supported.
//
// The plugin protocol, as the engine expects it:
//   - the engine starts us with its own gRPC address as the last positional argument;
//   - we listen on a free loopback port and print that port number, alone on the first line of
//     stdout, which is how the engine knows we are ready and where to dial;
//   - everything we (or the node processes we spawn for Run) write afterwards to stdout/stderr is
//     shown to the user by the engine;
//   - if the engine goes away we should exit rather than linger.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is reported by GetPluginInfo and -version. It is stamped at build time with
// -ldflags "-X main.version=3.248.0" so it matches the CLI and the @pulumi/pulumi it is meant for.
var version = "0.0.0-dev"

// engineCheckInterval is how often we ask the engine whether it is still alive. A slow interval is
// fine: it only matters when the CLI was killed without taking us down with it.
const engineCheckInterval = 5 * time.Minute

func main() {
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	// The engine may pass -tracing and -runtime (upstream's flags). We accept them so that a CLI
	// passing them does not make us fail at start-up, but tracing is not implemented and the only
	// runtime is node.
	flag.String("tracing", "", "accepted for compatibility; tracing is not implemented")
	runtimeName := flag.String("runtime", "nodejs", "runtime to use; only nodejs is supported")
	flag.Parse()

	if *showVersion {
		fmt.Println(version)
		return
	}
	if *runtimeName != "nodejs" {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: unsupported runtime %q (only nodejs)\n", *runtimeName)
		os.Exit(1)
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		// The engine's address is the last positional argument.
		engineAddress = args[len(args)-1]
	}

	// stop is closed (once) to make the gRPC server shut down gracefully: on Ctrl-C or when the
	// engine stops answering health checks.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()

	host := newHost(engineAddress)
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, engineCheckInterval, cancel); err != nil {
			fatal(fmt.Errorf("could not start engine health check: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fatal(fmt.Errorf("could not start the language host gRPC server: %w", err))
	}

	// Readiness signal for the engine: the port, alone on the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fatal(fmt.Errorf("language host gRPC server stopped: %w", err))
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
	os.Exit(1)
}
