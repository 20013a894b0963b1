package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Provider describes one provider plugin. Build it in main and hand it to Main.
type Provider struct {
	// Name is the package name, e.g. "random" (tokens start with "random:").
	Name string
	// Version is reported by GetPluginInfo and the schema (no leading "v").
	Version string
	// Resources maps type tokens to handlers.
	Resources map[string]Resource
	// Functions maps function tokens to handlers (optional).
	Functions map[string]Function
	// Configure is called with the provider's configuration (optional). A
	// returned error fails the deployment.
	Configure func(ctx context.Context, config PropertyMap) error
	// CheckConfig validates provider configuration (optional; default accepts it as is).
	CheckConfig func(ctx context.Context, olds, news PropertyMap) (PropertyMap, []CheckFailure, error)
	// Schema overrides the minimal generated schema (optional, JSON text).
	Schema string
}

// server implements pulumirpc.ResourceProviderServer for a Provider.
type server struct {
	pulumirpc.UnimplementedResourceProviderServer

	p    *Provider
	host *Host

	mu     sync.Mutex
	config PropertyMap

	root      context.Context
	cancelAll context.CancelFunc
}

// NewServer returns the gRPC server for p; Main uses it, tests may too.
// engineAddr may be empty.
func NewServer(p *Provider, engineAddr string) (pulumirpc.ResourceProviderServer, error) {
	s := &server{p: p, host: &Host{}, config: PropertyMap{}}
	s.root, s.cancelAll = context.WithCancel(context.Background())
	if err := s.host.connect(engineAddr); err != nil {
		return nil, err
	}
	return s, nil
}

var unmarshalOpts = plugin.MarshalOptions{
	KeepUnknowns:  true,
	KeepSecrets:   true,
	KeepResources: true,
	SkipNulls:     true,
}

var marshalOpts = plugin.MarshalOptions{
	KeepUnknowns:  true,
	KeepSecrets:   true,
	KeepResources: true,
}

func unmarshal(label string, s *structpb.Struct) (PropertyMap, error) {
	if s == nil {
		return PropertyMap{}, nil
	}
	o := unmarshalOpts
	o.Label = label
	m, err := plugin.UnmarshalProperties(s, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if m == nil {
		m = PropertyMap{}
	}
	return m, nil
}

func marshal(label string, m PropertyMap) (*structpb.Struct, error) {
	o := marshalOpts
	o.Label = label
	if m == nil {
		m = PropertyMap{}
	}
	return plugin.MarshalProperties(m, o)
}

func (s *server) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.root, cancel)
	return ctx, func() { stop(); cancel() }
}

func (s *server) common(urn, name, typ string, preview bool) Common {
	s.mu.Lock()
	cfg := s.config
	s.mu.Unlock()
	if typ == "" && urn != "" {
		typ = typeFromURN(urn)
	}
	if name == "" && urn != "" {
		name = nameFromURN(urn)
	}
	return Common{URN: urn, Name: name, Type: typ, Config: cfg, Host: s.host, Preview: preview}
}

func typeFromURN(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return ""
	}
	t := parts[2]
	if i := strings.LastIndex(t, "$"); i >= 0 {
		t = t[i+1:]
	}
	return t
}

func nameFromURN(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return ""
	}
	return parts[len(parts)-1]
}

func (s *server) resource(typ string) (Resource, error) {
	r, ok := s.p.Resources[typ]
	if !ok {
		return nil, rpcerror.Newf(codes.InvalidArgument, "%s: unknown resource type %q", s.p.Name, typ)
	}
	return r, nil
}

func toRPCError(err error) error {
	var pe *PartialError
	if errors.As(err, &pe) {
		props, merr := marshal("partial", pe.Outputs)
		if merr != nil {
			return err
		}
		reasons := pe.Reasons
		if len(reasons) == 0 {
			reasons = []string{err.Error()}
		}
		return rpcerror.WithDetails(rpcerror.New(codes.Unknown, err.Error()),
			&pulumirpc.ErrorResourceInitFailed{Id: pe.ID, Properties: props, Reasons: reasons})
	}
	return err
}

// --- plugin-level methods ---------------------------------------------------

func (s *server) Handshake(_ context.Context, req *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	if err := s.host.connect(req.GetEngineAddress()); err != nil {
		return nil, err
	}
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (s *server) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	if err := s.host.connect(req.GetAddress()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.p.Version}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancelAll()
	return &emptypb.Empty{}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	if s.p.Schema != "" {
		return &pulumirpc.GetSchemaResponse{Schema: s.p.Schema}, nil
	}
	return &pulumirpc.GetSchemaResponse{Schema: MinimalSchema(s.p)}, nil
}

// MinimalSchema is the schema served when Provider.Schema is empty: the
// package name and version and every resource and function token with no
// properties.
func MinimalSchema(p *Provider) string {
	type obj = map[string]any
	res := obj{}
	for _, t := range sortedTokens(p.Resources) {
		res[t] = obj{"properties": obj{}, "inputProperties": obj{}}
	}
	fns := obj{}
	for t := range p.Functions {
		fns[t] = obj{}
	}
	b, _ := json.Marshal(obj{
		"name":      p.Name,
		"version":   p.Version,
		"resources": res,
		"functions": fns,
	})
	return string(b)
}

func sortedTokens(m map[string]Resource) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --- provider configuration -------------------------------------------------

func (s *server) CheckConfig(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	olds, err := unmarshal("checkconfig.olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("checkconfig.news", req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []CheckFailure
	if s.p.CheckConfig != nil {
		if news, failures, err = s.p.CheckConfig(ctx, olds, news); err != nil {
			return nil, err
		}
	}
	return checkResponse("checkconfig", news, failures)
}

func (s *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal("diffconfig.olds", req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal("diffconfig.olds", req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal("diffconfig.news", req.GetNews())
	if err != nil {
		return nil, err
	}
	// Provider configuration never forces replacement of the provider.
	return diffResponse(DiffInputs(olds, news, nil)), nil
}

func (s *server) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	var cfg PropertyMap
	if req.GetArgs() != nil {
		m, err := unmarshal("configure", req.GetArgs())
		if err != nil {
			return nil, err
		}
		cfg = m
	} else {
		cfg = PropertyMap{}
		for k, v := range req.GetVariables() {
			// "pkg:config:key" -> "key"
			if i := strings.LastIndex(k, ":"); i >= 0 {
				k = k[i+1:]
			}
			cfg[resource.PropertyKey(k)] = resource.NewProperty(v)
		}
	}
	if s.p.Configure != nil {
		if err := s.p.Configure(ctx, cfg); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.config = cfg
	s.mu.Unlock()
	return &pulumirpc.ConfigureResponse{
		AcceptSecrets:   true,
		AcceptResources: true,
		SupportsPreview: true,
	}, nil
}

// --- resources ---------------------------------------------------------------

func checkResponse(label string, inputs PropertyMap, failures []CheckFailure) (*pulumirpc.CheckResponse, error) {
	st, err := marshal(label, inputs)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: st}
	for _, f := range failures {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: f.Property, Reason: f.Reason})
	}
	return resp, nil
}

func (s *server) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	c := s.common(req.GetUrn(), req.GetName(), req.GetType(), false)
	r, err := s.resource(c.Type)
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal("check.olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("check.news", req.GetNews())
	if err != nil {
		return nil, err
	}
	ctx, done := s.ctx(ctx)
	defer done()
	inputs, failures, err := r.Check(ctx, CheckRequest{Common: c, Olds: olds, News: news, RandomSeed: req.GetRandomSeed()})
	if err != nil {
		return nil, err
	}
	if inputs == nil {
		inputs = news
	}
	return checkResponse("check.inputs", inputs, failures)
}

var diffKinds = map[DiffKind]pulumirpc.PropertyDiff_Kind{
	Add:           pulumirpc.PropertyDiff_ADD,
	AddReplace:    pulumirpc.PropertyDiff_ADD_REPLACE,
	Delete:        pulumirpc.PropertyDiff_DELETE,
	DeleteReplace: pulumirpc.PropertyDiff_DELETE_REPLACE,
	Update:        pulumirpc.PropertyDiff_UPDATE,
	UpdateReplace: pulumirpc.PropertyDiff_UPDATE_REPLACE,
}

func diffResponse(d DiffResult) *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{
		Changes:             pulumirpc.DiffResponse_DIFF_NONE,
		Replaces:            d.Replaces,
		Stables:             d.Stables,
		DeleteBeforeReplace: d.DeleteBeforeReplace,
	}
	if d.Changed || len(d.Replaces) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	seen := map[string]bool{}
	for _, k := range d.Replaces {
		if !seen[k] {
			seen[k] = true
			resp.Diffs = append(resp.Diffs, k)
		}
	}
	if d.Detailed != nil {
		resp.HasDetailedDiff = true
		resp.DetailedDiff = map[string]*pulumirpc.PropertyDiff{}
		keys := make([]string, 0, len(d.Detailed))
		for k := range d.Detailed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: diffKinds[d.Detailed[k]], InputDiff: true}
			top := k
			if i := strings.IndexAny(k, ".["); i > 0 {
				top = k[:i]
			}
			if !seen[top] {
				seen[top] = true
				resp.Diffs = append(resp.Diffs, top)
			}
		}
	}
	return resp
}

func (s *server) Diff(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	c := s.common(req.GetUrn(), req.GetName(), req.GetType(), false)
	r, err := s.resource(c.Type)
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal("diff.olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal("diff.oldInputs", req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("diff.news", req.GetNews())
	if err != nil {
		return nil, err
	}
	ctx, done := s.ctx(ctx)
	defer done()
	d, err := r.Diff(ctx, DiffRequest{
		Common: c, ID: req.GetId(), OldState: olds, OldInputs: oldInputs, News: news,
		IgnoreChanges: req.GetIgnoreChanges(),
	})
	if err != nil {
		return nil, err
	}
	return diffResponse(d), nil
}

func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	c := s.common(req.GetUrn(), req.GetName(), req.GetType(), req.GetPreview())
	r, err := s.resource(c.Type)
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal("create.inputs", req.GetProperties())
	if err != nil {
		return nil, err
	}
	ctx, done := s.ctx(ctx)
	defer done()
	id, outs, err := r.Create(ctx, CreateRequest{Common: c, Inputs: inputs, Timeout: req.GetTimeout()})
	if err != nil {
		return nil, toRPCError(err)
	}
	if id == "" && !req.GetPreview() {
		return nil, fmt.Errorf("%s: create returned an empty ID", c.Type)
	}
	st, err := marshal("create.outputs", outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: st}, nil
}

func (s *server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	c := s.common(req.GetUrn(), req.GetName(), req.GetType(), false)
	r, err := s.resource(c.Type)
	if err != nil {
		return nil, err
	}
	state, err := unmarshal("read.state", req.GetProperties())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal("read.inputs", req.GetInputs())
	if err != nil {
		return nil, err
	}
	ctx, done := s.ctx(ctx)
	defer done()
	res, err := r.Read(ctx, ReadRequest{Common: c, ID: req.GetId(), State: state, Inputs: inputs})
	if err != nil {
		return nil, toRPCError(err)
	}
	if res.ID == "" {
		return &pulumirpc.ReadResponse{}, nil
	}
	st, err := marshal("read.outputs", res.Outputs)
	if err != nil {
		return nil, err
	}
	in, err := marshal("read.inputs", res.Inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: res.ID, Properties: st, Inputs: in}, nil
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	c := s.common(req.GetUrn(), req.GetName(), req.GetType(), req.GetPreview())
	r, err := s.resource(c.Type)
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal("update.olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal("update.oldInputs", req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("update.news", req.GetNews())
	if err != nil {
		return nil, err
	}
	ctx, done := s.ctx(ctx)
	defer done()
	outs, err := r.Update(ctx, UpdateRequest{
		Common: c, ID: req.GetId(), OldState: olds, OldInputs: oldInputs, News: news,
		Timeout: req.GetTimeout(), IgnoreChanges: req.GetIgnoreChanges(),
	})
	if err != nil {
		return nil, toRPCError(err)
	}
	st, err := marshal("update.outputs", outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: st}, nil
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	c := s.common(req.GetUrn(), req.GetName(), req.GetType(), false)
	r, err := s.resource(c.Type)
	if err != nil {
		return nil, err
	}
	state, err := unmarshal("delete.state", req.GetProperties())
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal("delete.oldInputs", req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	ctx, done := s.ctx(ctx)
	defer done()
	if err := r.Delete(ctx, DeleteRequest{Common: c, ID: req.GetId(), State: state, OldInputs: oldInputs, Timeout: req.GetTimeout()}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *server) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	fn, ok := s.p.Functions[req.GetTok()]
	if !ok {
		return nil, rpcerror.Newf(codes.InvalidArgument, "%s: unknown function %q", s.p.Name, req.GetTok())
	}
	args, err := unmarshal("invoke.args", req.GetArgs())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	cfg := s.config
	s.mu.Unlock()
	ctx, done := s.ctx(ctx)
	defer done()
	out, err := fn(ctx, InvokeRequest{Token: req.GetTok(), Args: args, Config: cfg, Host: s.host, Preview: req.GetPreview()})
	if err != nil {
		return nil, err
	}
	st, err := marshal("invoke.return", out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: st}, nil
}
