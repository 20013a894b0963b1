package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

func TestPasswordCheckDefaults(t *testing.T) {
	in, failures, err := password{}.Check(context.Background(), fw.CheckRequest{News: fw.PropertyMap{"length": fw.Num(16)}})
	if err != nil || len(failures) != 0 {
		t.Fatalf("%v %v", failures, err)
	}
	for _, k := range []string{"lower", "upper", "special", "numeric", "number"} {
		if b, ok := fw.GetBool(in, k); !ok || !b {
			t.Errorf("%s should default to true", k)
		}
	}
	for _, k := range []string{"minLower", "minUpper", "minNumeric", "minSpecial"} {
		if n, ok := fw.GetInt(in, k); !ok || n != 0 {
			t.Errorf("%s should default to 0", k)
		}
	}
}

func TestPasswordCheckFailures(t *testing.T) {
	cases := map[string]fw.PropertyMap{
		"missing length": {},
		"length 0":       {"length": fw.Num(0)},
		"fractional":     {"length": fw.Num(2.5)},
		"mins too big":   {"length": fw.Num(3), "minUpper": fw.Num(2), "minSpecial": fw.Num(2)},
		"conflict":       {"length": fw.Num(8), "number": fw.Bool(false), "numeric": fw.Bool(true)},
		"bad bool":       {"length": fw.Num(8), "upper": fw.Str("yes")},
	}
	for name, news := range cases {
		_, failures, err := password{}.Check(context.Background(), fw.CheckRequest{News: news})
		if err != nil || len(failures) == 0 {
			t.Errorf("%s: expected a failure, got %v %v", name, failures, err)
		}
	}
	// number alone sets numeric.
	in, failures, _ := password{}.Check(context.Background(), fw.CheckRequest{News: fw.PropertyMap{"length": fw.Num(8), "number": fw.Bool(false)}})
	if len(failures) != 0 || fw.BoolOr(in, "numeric", true) {
		t.Errorf("numeric should follow number: %v %v", in, failures)
	}
	// unknown length during preview is accepted.
	if _, failures, _ := (password{}).Check(context.Background(), fw.CheckRequest{News: fw.PropertyMap{"length": fw.Unknown()}}); len(failures) != 0 {
		t.Errorf("unknown length: %v", failures)
	}
}

func TestGeneratePassword(t *testing.T) {
	for i := 0; i < 50; i++ {
		p, err := generatePassword(passwordOptions{
			Length: 12, Upper: true, Lower: true, Numeric: true, Special: true,
			MinUpper: 2, MinLower: 2, MinNumeric: 3, MinSpecial: 1, Specials: "#",
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 12 {
			t.Fatalf("length %d", len(p))
		}
		count := func(set string) int {
			n := 0
			for _, r := range p {
				if strings.ContainsRune(set, r) {
					n++
				}
			}
			return n
		}
		if count(upperChars) < 2 || count(lowerChars) < 2 || count(numericChars) < 3 || count("#") < 1 {
			t.Fatalf("minimums not met: %q", p)
		}
		if strings.ContainsAny(p, strings.ReplaceAll(specialChars, "#", "")) {
			t.Fatalf("default specials used despite override: %q", p)
		}
	}
	p, _ := generatePassword(passwordOptions{Length: 40, Numeric: true})
	if strings.Trim(p, numericChars) != "" {
		t.Fatalf("only digits expected: %q", p)
	}
	if _, err := generatePassword(passwordOptions{Length: 5}); err == nil {
		t.Fatal("expected an error with no character set")
	}
}

func TestPasswordCreate(t *testing.T) {
	in, _, _ := password{}.Check(context.Background(), fw.CheckRequest{News: fw.PropertyMap{"length": fw.Num(20)}})
	id, out, err := password{}.Create(context.Background(), fw.CreateRequest{Inputs: in})
	if err != nil || id != "none" {
		t.Fatalf("%v %v", id, err)
	}
	if !out["result"].IsSecret() || !out["bcryptHash"].IsSecret() {
		t.Fatal("result and bcryptHash must be secret")
	}
	res, _ := fw.GetString(out, "result")
	hash, _ := fw.GetString(out, "bcryptHash")
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(res)) != nil {
		t.Fatal("bcryptHash does not match result")
	}
	if fw.IntOr(out, "length", 0) != 20 {
		t.Fatal("inputs should be in the outputs")
	}
	_, out, _ = password{}.Create(context.Background(), fw.CreateRequest{Common: fw.Common{Preview: true}, Inputs: in})
	if !out["result"].IsComputed() {
		t.Fatal("result should be unknown in preview")
	}
}

func TestDiffReplaces(t *testing.T) {
	olds := fw.PropertyMap{"length": fw.Num(8), "keepers": fw.Obj(fw.PropertyMap{"a": fw.Str("1")})}
	news := fw.PropertyMap{"length": fw.Num(8), "keepers": fw.Obj(fw.PropertyMap{"a": fw.Str("2")})}
	d := replaceOnAnyChange(fw.DiffRequest{OldInputs: olds, News: news}, passwordInputs)
	if !d.Changed || len(d.Replaces) != 1 || d.Replaces[0] != "keepers" {
		t.Fatalf("%+v", d)
	}
	// outputs in the old state are not inputs
	state := fw.Copy(olds)
	state["result"] = fw.Secret(fw.Str("x"))
	if d := replaceOnAnyChange(fw.DiffRequest{OldState: state, News: olds}, passwordInputs); d.Changed {
		t.Fatalf("%+v", d)
	}
	// empty keepers == no keepers
	a := fw.PropertyMap{"byteLength": fw.Num(4)}
	b := fw.PropertyMap{"byteLength": fw.Num(4), "keepers": fw.Obj(fw.PropertyMap{})}
	if d := replaceOnAnyChange(fw.DiffRequest{OldInputs: a, News: b}, idInputs); d.Changed {
		t.Fatalf("%+v", d)
	}
}

func TestBytesAndID(t *testing.T) {
	_, out, err := randomBytes{}.Create(context.Background(), fw.CreateRequest{Inputs: fw.PropertyMap{"length": fw.Num(16)}})
	if err != nil {
		t.Fatal(err)
	}
	b64, _ := fw.GetString(out, "base64")
	hx, _ := fw.GetString(out, "hex")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	if len(raw) != 16 || hex.EncodeToString(raw) != hx || !out["base64"].IsSecret() || !out["hex"].IsSecret() {
		t.Fatalf("bad bytes outputs: %v", out)
	}
	id, vals := idValues([]byte{0x01, 0xff}, "p-")
	if id != "Af8" || vals["hex"] != "p-01ff" || vals["b64Std"] != "p-Af8=" || vals["b64Url"] != "p-Af8" || vals["dec"] != "p-511" {
		t.Fatalf("%v %v", id, vals)
	}
}
