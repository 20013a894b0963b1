package framework

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Severity of a log message sent to the engine.
type Severity int

const (
	Debug Severity = iota
	Info
	Warning
	Error
)

// Host sends log messages to the engine (shown by the CLI against the
// resource's URN). Before the engine's address is known, or if it cannot be
// reached, messages go to the plugin's stderr instead (which the CLI shows
// only with verbose logging). Never log secret values.
type Host struct {
	mu     sync.Mutex
	conn   *grpc.ClientConn
	engine pulumirpc.EngineClient
	addr   string
}

func (h *Host) connect(addr string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if addr == "" || addr == h.addr {
		return nil
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions())
	if err != nil {
		return fmt.Errorf("connecting to the engine at %s: %w", addr, err)
	}
	if h.conn != nil {
		_ = h.conn.Close()
	}
	h.conn, h.engine, h.addr = conn, pulumirpc.NewEngineClient(conn), addr
	return nil
}

// Log sends msg for the resource urn ("" for none) at the given severity.
func (h *Host) Log(ctx context.Context, sev Severity, urn, msg string) {
	h.log(ctx, sev, urn, msg, false)
}

// Status sends an ephemeral message (shown in the progress column only).
func (h *Host) Status(ctx context.Context, sev Severity, urn, msg string) {
	h.log(ctx, sev, urn, msg, true)
}

// Logf formats and logs at Info.
func (h *Host) Logf(ctx context.Context, urn, format string, args ...any) {
	h.Log(ctx, Info, urn, fmt.Sprintf(format, args...))
}

func (h *Host) log(ctx context.Context, sev Severity, urn, msg string, ephemeral bool) {
	if h == nil {
		return
	}
	h.mu.Lock()
	engine := h.engine
	h.mu.Unlock()
	if engine != nil {
		_, err := engine.Log(context.WithoutCancel(ctx), &pulumirpc.LogRequest{
			Severity:  pulumirpc.LogSeverity(sev),
			Message:   msg,
			Urn:       urn,
			Ephemeral: ephemeral,
		})
		if err == nil {
			return
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", urn, msg)
}
