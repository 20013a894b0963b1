package framework

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// Main runs p as a Pulumi resource provider plugin: it serves gRPC on a free
// loopback port, prints the port on stdout (the plugin protocol), and
// returns when the engine goes away or sends SIGINT/SIGTERM. Call it from
// main and exit non-zero on error:
//
//	if err := framework.Main(p); err != nil { fmt.Fprintln(os.Stderr, err); os.Exit(1) }
//
// Command-line arguments: the engine passes its address as the last
// positional argument, plus optional --logtostderr, -v=N, --logflow and
// "--tracing ENDPOINT" (ignored). With no address the plugin starts in
// attach mode (the engine calls Attach later). "--version" prints Version.
func Main(p *Provider) error {
	engineAddr := ""
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--version" || a == "-version":
			fmt.Println(p.Version)
			return nil
		case a == "--tracing" || a == "-tracing":
			i++
		case strings.HasPrefix(a, "-"):
			// logging flags: ignored
		default:
			engineAddr = a
		}
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	if engineAddr != "" {
		// Stop when the engine stops answering.
		if err := rpcutil.Healthcheck(ctx, engineAddr, 5*time.Minute, cancel); err != nil {
			return fmt.Errorf("could not start health check of the engine: %w", err)
		}
	}

	srv, err := NewServer(p, engineAddr)
	if err != nil {
		return err
	}

	cancelCh := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelCh)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelCh,
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(s, srv)
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
