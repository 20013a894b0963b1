package main

// Conformance suite: the plugin against upstream terraform-provider-random
// (bridged by pulumi-random), whose every argument of random_password,
// random_bytes and random_id carries RequiresReplace (ForceNew): any input
// change replaces the resource and generates a new value. The cases drive
// the plugin through its gRPC server, the way the engine does.

import (
	"context"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

var rpcOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true}

func mustMarshal(t *testing.T, m fw.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, rpcOpts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustUnmarshal(t *testing.T, s *structpb.Struct) fw.PropertyMap {
	t.Helper()
	o := rpcOpts
	o.SkipNulls = true
	m, err := plugin.UnmarshalProperties(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConformance_RandomAnyInputChangeReplaces checks every input key of
// every random resource the stack uses.
func TestConformance_RandomAnyInputChangeReplaces(t *testing.T) {
	// terraform-provider-random: every attribute of random_password
	// (length, special, upper, lower, numeric, number, min_*, override_special,
	// keepers), random_bytes (length, keepers) and random_id (byte_length,
	// prefix, keepers) has a RequiresReplace plan modifier — "keepers:
	// Arbitrary map of values that, when changed, will trigger recreation of
	// resource."
	srv, err := fw.NewServer(newProvider(), "")
	if err != nil {
		t.Fatal(err)
	}
	keepers := func(v string) resource.PropertyValue { return fw.Obj(fw.PropertyMap{"k": fw.Str(v)}) }
	types := []struct {
		token   string
		keys    []string
		base    fw.PropertyMap
		changes map[string]resource.PropertyValue
		result  string
	}{
		{
			token: passwordToken, keys: passwordInputs, result: "result",
			base: fw.PropertyMap{"length": fw.Num(16), "keepers": keepers("1")},
			changes: map[string]resource.PropertyValue{
				"keepers": keepers("2"), "length": fw.Num(20), "lower": fw.Bool(false),
				"minLower": fw.Num(2), "minNumeric": fw.Num(2), "minSpecial": fw.Num(2), "minUpper": fw.Num(2),
				"number": fw.Bool(false), "numeric": fw.Bool(false), "overrideSpecial": fw.Str("_%"),
				"special": fw.Bool(false), "upper": fw.Bool(false),
			},
		},
		{
			token: bytesToken, keys: bytesInputs, result: "hex",
			base:    fw.PropertyMap{"length": fw.Num(16), "keepers": keepers("1")},
			changes: map[string]resource.PropertyValue{"keepers": keepers("2"), "length": fw.Num(32)},
		},
		{
			token: idToken, keys: idInputs, result: "hex",
			base:    fw.PropertyMap{"byteLength": fw.Num(8), "keepers": keepers("1")},
			changes: map[string]resource.PropertyValue{"keepers": keepers("2"), "byteLength": fw.Num(4), "prefix": fw.Str("p-")},
		},
	}
	ctx := context.Background()
	for _, ty := range types {
		urn := "urn:pulumi:test::consul-swarm::" + ty.token + "::r"
		check := func(t *testing.T, news fw.PropertyMap) fw.PropertyMap {
			t.Helper()
			resp, err := srv.Check(ctx, &pulumirpc.CheckRequest{Urn: urn, News: mustMarshal(t, news)})
			if err != nil || len(resp.GetFailures()) > 0 {
				t.Fatalf("check: %v %v", err, resp.GetFailures())
			}
			return mustUnmarshal(t, resp.GetInputs())
		}
		base := check(t, ty.base)
		cr, err := srv.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: mustMarshal(t, base)})
		if err != nil {
			t.Fatal(err)
		}
		state := mustUnmarshal(t, cr.GetProperties())
		if !state[resource.PropertyKey(ty.result)].IsSecret() && ty.token == passwordToken {
			t.Fatalf("%s: result must be secret", ty.token)
		}
		diff := func(t *testing.T, news fw.PropertyMap) *pulumirpc.DiffResponse {
			t.Helper()
			d, err := srv.Diff(ctx, &pulumirpc.DiffRequest{Urn: urn, Id: cr.GetId(),
				Olds: mustMarshal(t, state), OldInputs: mustMarshal(t, base), News: mustMarshal(t, news)})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := diff(t, base); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
			t.Fatalf("%s: no change must be no diff (the value is kept): %v", ty.token, d)
		}
		for _, key := range ty.keys {
			t.Run(ty.token+"/"+key, func(t *testing.T) {
				v, ok := ty.changes[key]
				if !ok {
					t.Fatalf("no case for input %q", key)
				}
				news := fw.Copy(ty.base)
				news[resource.PropertyKey(key)] = v
				if key == "number" || key == "numeric" { // aliases: change both
					news["number"], news["numeric"] = v, v
				}
				d := diff(t, check(t, news))
				if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || !slices.Contains(d.GetReplaces(), key) {
					t.Fatalf("a change to %s must replace: %v", key, d)
				}
			})
		}
	}
}
