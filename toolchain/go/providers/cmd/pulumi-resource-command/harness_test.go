package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

// The conformance harness drives the plugin through its gRPC server, as the
// engine does, with a fake engine that records the log messages.

type fakeEngine struct {
	pulumirpc.UnimplementedEngineServer
	mu   sync.Mutex
	logs []*pulumirpc.LogRequest
}

func (e *fakeEngine) Log(_ context.Context, r *pulumirpc.LogRequest) (*emptypb.Empty, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, r)
	return &emptypb.Empty{}, nil
}

// messages returns the messages logged at sev (ephemeral statuses included).
func (e *fakeEngine) messages(sev pulumirpc.LogSeverity) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, l := range e.logs {
		if l.GetSeverity() == sev {
			out = append(out, l.GetMessage())
		}
	}
	return out
}

type harness struct {
	t      *testing.T
	srv    pulumirpc.ResourceProviderServer
	engine *fakeEngine
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	eng := &fakeEngine{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	pulumirpc.RegisterEngineServer(g, eng)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	srv, err := fw.NewServer(newProvider(), lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, srv: srv, engine: eng}
}

func urnOf(token, name string) string {
	return "urn:pulumi:test::consul-swarm::" + token + "::" + name
}

var rpcOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true}

func (h *harness) marshal(m fw.PropertyMap) *structpb.Struct {
	h.t.Helper()
	s, err := plugin.MarshalProperties(m, rpcOpts)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) unmarshal(s *structpb.Struct) fw.PropertyMap {
	h.t.Helper()
	o := rpcOpts
	o.SkipNulls = true
	m, err := plugin.UnmarshalProperties(s, o)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// check runs Check and fails the test on check failures.
func (h *harness) check(token string, news fw.PropertyMap) fw.PropertyMap {
	h.t.Helper()
	in, failures := h.checkFailures(token, news)
	if len(failures) > 0 {
		h.t.Fatalf("check %s: %v", token, failures)
	}
	return in
}

func (h *harness) checkFailures(token string, news fw.PropertyMap) (fw.PropertyMap, []*pulumirpc.CheckFailure) {
	h.t.Helper()
	resp, err := h.srv.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: urnOf(token, "r"), Type: token, Name: "r", News: h.marshal(news),
	})
	if err != nil {
		h.t.Fatalf("check %s: %v", token, err)
	}
	return h.unmarshal(resp.GetInputs()), resp.GetFailures()
}

func (h *harness) diff(token string, old *resState, news fw.PropertyMap) *pulumirpc.DiffResponse {
	h.t.Helper()
	resp, err := h.srv.Diff(context.Background(), &pulumirpc.DiffRequest{
		Urn: urnOf(token, "r"), Type: token, Name: "r", Id: old.id,
		Olds: h.marshal(old.outputs), OldInputs: h.marshal(old.inputs), News: h.marshal(news),
	})
	if err != nil {
		h.t.Fatalf("diff %s: %v", token, err)
	}
	return resp
}

func (h *harness) create(token string, inputs fw.PropertyMap, preview bool) (string, fw.PropertyMap, error) {
	h.t.Helper()
	resp, err := h.srv.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: urnOf(token, "r"), Type: token, Name: "r", Properties: h.marshal(inputs), Preview: preview,
	})
	if err != nil {
		return "", nil, err
	}
	return resp.GetId(), h.unmarshal(resp.GetProperties()), nil
}

func (h *harness) update(token string, old *resState, news fw.PropertyMap, preview bool) (fw.PropertyMap, error) {
	h.t.Helper()
	resp, err := h.srv.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: urnOf(token, "r"), Type: token, Name: "r", Id: old.id,
		Olds: h.marshal(old.outputs), OldInputs: h.marshal(old.inputs), News: h.marshal(news), Preview: preview,
	})
	if err != nil {
		return nil, err
	}
	return h.unmarshal(resp.GetProperties()), nil
}

func (h *harness) delete(token string, old *resState) error {
	h.t.Helper()
	_, err := h.srv.Delete(context.Background(), &pulumirpc.DeleteRequest{
		Urn: urnOf(token, "r"), Type: token, Name: "r", Id: old.id,
		Properties: h.marshal(old.outputs), OldInputs: h.marshal(old.inputs),
	})
	return err
}

func (h *harness) read(token string, old *resState) *pulumirpc.ReadResponse {
	h.t.Helper()
	resp, err := h.srv.Read(context.Background(), &pulumirpc.ReadRequest{
		Urn: urnOf(token, "r"), Type: token, Name: "r", Id: old.id,
		Properties: h.marshal(old.outputs), Inputs: h.marshal(old.inputs),
	})
	if err != nil {
		h.t.Fatalf("read: %v", err)
	}
	return resp
}

// resState is a resource as the engine records it.
type resState struct {
	id              string
	inputs, outputs fw.PropertyMap
}

// step is what the engine did in up().
type step string

const (
	stepCreate  step = "create"
	stepUpdate  step = "update"
	stepReplace step = "replace"
	stepSame    step = "same"
)

// up does what `pulumi up` does for one resource: check, then create, or
// diff and update in place, or replace (create the new, then delete the
// old, unless the diff asks for delete-before-replace). On an error the
// engine keeps the previous state, which up returns with the error.
func (h *harness) up(token string, old *resState, program fw.PropertyMap) (*resState, step, error) {
	h.t.Helper()
	news := h.check(token, program)
	if old == nil {
		id, outs, err := h.create(token, news, false)
		if err != nil {
			return nil, stepCreate, err
		}
		return &resState{id: id, inputs: news, outputs: outs}, stepCreate, nil
	}
	d := h.diff(token, old, news)
	switch {
	case d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME:
		return old, stepSame, nil
	case len(d.GetReplaces()) > 0:
		if d.GetDeleteBeforeReplace() {
			h.t.Fatal("the provider must not force delete-before-replace")
		}
		id, outs, err := h.create(token, news, false)
		if err != nil {
			return old, stepReplace, err
		}
		if err := h.delete(token, old); err != nil {
			return &resState{id: id, inputs: news, outputs: outs}, stepReplace, err
		}
		return &resState{id: id, inputs: news, outputs: outs}, stepReplace, nil
	default:
		outs, err := h.update(token, old, news, false)
		if err != nil {
			return old, stepUpdate, err
		}
		return &resState{id: old.id, inputs: news, outputs: outs}, stepUpdate, nil
	}
}

// mustUp is up that fails the test on an error and checks the step.
func (h *harness) mustUp(token string, old *resState, program fw.PropertyMap, want step) *resState {
	h.t.Helper()
	st, got, err := h.up(token, old, program)
	if err != nil {
		h.t.Fatalf("up (%s): %v", got, err)
	}
	if got != want {
		h.t.Fatalf("up: the engine did %s, want %s", got, want)
	}
	return st
}

// noInitFailed asserts err is a plain error: no ErrorResourceInitFailed
// detail, so the engine records no (partial) state from it.
func noInitFailed(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error")
	}
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if _, ok := d.(*pulumirpc.ErrorResourceInitFailed); ok {
			t.Fatalf("the error carries partial state (ErrorResourceInitFailed): %v", err)
		}
	}
}

func str(m fw.PropertyMap, k string) string {
	v, ok := m[resource.PropertyKey(k)]
	if !ok {
		return "<absent>"
	}
	if v.IsComputed() || (v.IsSecret() && v.SecretValue().Element.IsComputed()) {
		return "<unknown>"
	}
	s, _ := fw.GetString(m, k)
	return s
}

func with(m fw.PropertyMap, kv ...any) fw.PropertyMap {
	m = fw.Copy(m)
	for i := 0; i < len(kv); i += 2 {
		k := resource.PropertyKey(kv[i].(string))
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1].(resource.PropertyValue)
	}
	return m
}

func strs(ss ...string) resource.PropertyValue {
	vs := make([]resource.PropertyValue, len(ss))
	for i, s := range ss {
		vs[i] = fw.Str(s)
	}
	return resource.NewProperty(vs)
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
