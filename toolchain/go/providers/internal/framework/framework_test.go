package framework

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

func TestChangedKeys(t *testing.T) {
	olds := PropertyMap{
		"a": Str("x"),
		"b": Secret(Str("s")),
		"c": Num(1),
		"d": Str("gone"),
	}
	news := PropertyMap{
		"a": Secret(Str("x")), // secretness only: no change
		"b": Str("s"),         // same
		"c": Unknown(),        // unknown: a change
		"e": Bool(true),       // added
	}
	got := ChangedKeys(olds, news)
	want := []string{"c", "d", "e"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestDiffInputsKinds(t *testing.T) {
	olds := PropertyMap{"keep": Str("1"), "rep": Str("a"), "upd": Str("a"), "del": Str("x")}
	news := PropertyMap{"keep": Str("1"), "rep": Str("b"), "upd": Str("b"), "add": Str("y")}
	d := DiffInputs(olds, news, ReplaceKeys("rep", "add"))
	if !d.Changed {
		t.Fatal("expected changes")
	}
	want := map[string]DiffKind{"rep": UpdateReplace, "upd": Update, "del": Delete, "add": AddReplace}
	for k, v := range want {
		if d.Detailed[k] != v {
			t.Errorf("%s: got %v, want %v", k, d.Detailed[k], v)
		}
	}
	if len(d.Replaces) != 2 {
		t.Errorf("replaces: %v", d.Replaces)
	}
	if d := DiffInputs(olds, olds, nil); d.Changed {
		t.Error("no change expected")
	}
}

type echo struct{ Base }

func (echo) Create(_ context.Context, req CreateRequest) (string, PropertyMap, error) {
	out := Copy(req.Inputs)
	if req.Preview {
		out["result"] = Unknown()
		return "", out, nil
	}
	out["result"] = Secret(Str("r-" + StringOr(req.Inputs, "in", "")))
	return "id1", out, nil
}

func TestServerRoundTrip(t *testing.T) {
	p := &Provider{Name: "test", Version: "1.2.3", Resources: map[string]Resource{"test:index:Echo": echo{}}}
	srv, err := NewServer(p, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	info, err := srv.GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil || info.Version != "1.2.3" {
		t.Fatalf("plugin info: %v %v", info, err)
	}
	cfg, err := srv.Configure(ctx, &pulumirpc.ConfigureRequest{AcceptSecrets: true})
	if err != nil || !cfg.AcceptSecrets || !cfg.SupportsPreview || !cfg.AcceptResources {
		t.Fatalf("configure: %v %v", cfg, err)
	}
	in, err := marshal("t", PropertyMap{"in": Secret(Str("v"))})
	if err != nil {
		t.Fatal(err)
	}
	urn := "urn:pulumi:dev::proj::test:index:Echo::e"
	resp, err := srv.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	out, err := unmarshal("t", resp.Properties)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Id != "id1" || !out["in"].IsSecret() || !out["result"].IsSecret() ||
		out["result"].SecretValue().Element.StringValue() != "r-v" {
		t.Fatalf("unexpected create result: %v %v", resp.Id, out)
	}
	// Preview: unknown outputs survive the round trip.
	resp, err = srv.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: in, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	out, _ = unmarshal("t", resp.Properties)
	if !out["result"].IsComputed() {
		t.Fatalf("expected unknown result in preview, got %v", out["result"])
	}
	// Unknown type token.
	if _, err := srv.Create(ctx, &pulumirpc.CreateRequest{Urn: "urn:pulumi:dev::proj::test:index:Nope::n", Properties: in}); err == nil {
		t.Fatal("expected an error for an unknown type")
	}
	// Default diff replaces on any change.
	news, _ := marshal("t", PropertyMap{"in": Str("w")})
	d, err := srv.Diff(ctx, &pulumirpc.DiffRequest{Urn: urn, Olds: in, OldInputs: in, News: news})
	if err != nil {
		t.Fatal(err)
	}
	if d.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(d.Replaces) != 1 || d.Replaces[0] != "in" {
		t.Fatalf("diff: %v", d)
	}
	_ = resource.PropertyKey("")
}

func TestTypeFromURN(t *testing.T) {
	if got := typeFromURN("urn:pulumi:dev::proj::parent:index:P$command:local:Command::c"); got != "command:local:Command" {
		t.Fatal(got)
	}
	if got := nameFromURN("urn:pulumi:dev::proj::command:local:Command::c"); got != "c" {
		t.Fatal(got)
	}
}
