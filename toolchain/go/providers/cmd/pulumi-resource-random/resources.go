package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/bcrypt"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

const (
	passwordToken = "random:index/randomPassword:RandomPassword"
	bytesToken    = "random:index/randomBytes:RandomBytes"
	idToken       = "random:index/randomId:RandomId"
)

// Character sets, as documented upstream.
const (
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	numericChars = "0123456789"
	specialChars = "!@#$%&*()-_=+[]{}<>:?"
)

var passwordInputs = []string{
	"keepers", "length", "lower", "minLower", "minNumeric", "minSpecial", "minUpper",
	"number", "numeric", "overrideSpecial", "special", "upper",
}

// ---------------------------------------------------------------------------
// shared checks and diff

type checker struct {
	in       fw.PropertyMap
	failures []fw.CheckFailure
}

func (c *checker) fail(prop, format string, args ...any) {
	c.failures = append(c.failures, fw.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)})
}

// known reports whether key holds a known, non-null value.
func (c *checker) known(key string) bool {
	return fw.Has(c.in, key) && !fw.IsUnknown(c.in, key)
}

// integer validates an integer property; required makes absence a failure,
// otherwise def is stored when absent. It returns the value (def when unknown).
func (c *checker) integer(key string, required bool, def, min int) int {
	if !fw.Has(c.in, key) {
		if required {
			c.fail(key, "missing required property '%s'", key)
			return def
		}
		c.in[resource.PropertyKey(key)] = fw.Num(float64(def))
		return def
	}
	if fw.IsUnknown(c.in, key) {
		return def
	}
	v, ok := fw.GetInt(c.in, key)
	if !ok {
		c.fail(key, "%s must be a whole number", key)
		return def
	}
	if v < min {
		c.fail(key, "%s (%d) must be >= %d", key, v, min)
	}
	return v
}

// boolean validates a bool property and stores def when absent.
func (c *checker) boolean(key string, def bool) {
	if !fw.Has(c.in, key) {
		c.in[resource.PropertyKey(key)] = fw.Bool(def)
		return
	}
	if c.known(key) {
		if _, ok := fw.GetBool(c.in, key); !ok {
			c.fail(key, "%s must be a boolean", key)
		}
	}
}

func (c *checker) optionalString(key string) {
	if c.known(key) {
		if _, ok := fw.GetString(c.in, key); !ok {
			c.fail(key, "%s must be a string", key)
		}
	}
}

func (c *checker) keepers() {
	if c.known("keepers") {
		if _, ok := fw.GetObject(c.in, "keepers"); !ok {
			c.fail("keepers", "keepers must be a map")
		}
	}
}

// onlyInputs keeps the given keys of m, with an empty or all-null keepers
// map treated as absent (upstream replaces only when keepers values change).
func onlyInputs(m fw.PropertyMap, keys []string) fw.PropertyMap {
	out := fw.PropertyMap{}
	for _, k := range keys {
		v, ok := m[resource.PropertyKey(k)]
		if !ok || v.IsNull() {
			continue
		}
		if k == "keepers" {
			if obj, ok := fw.GetObject(m, k); ok {
				empty := true
				for _, e := range obj {
					if !e.IsNull() {
						empty = false
					}
				}
				if empty {
					continue
				}
			}
		}
		out[resource.PropertyKey(k)] = v
	}
	return out
}

// replaceOnAnyChange is the Diff of every random resource: any change to an
// input replaces the resource.
func replaceOnAnyChange(req fw.DiffRequest, keys []string) fw.DiffResult {
	olds := onlyInputs(req.OldInputsOrState(), keys)
	news := onlyInputs(req.News, keys)
	return fw.DiffInputs(olds, news, func(string) bool { return true })
}

func randomBytesN(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("reading random bytes: %w", err)
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// RandomPassword

type password struct{ fw.Base }

func (password) Check(_ context.Context, req fw.CheckRequest) (fw.PropertyMap, []fw.CheckFailure, error) {
	c := &checker{in: fw.Copy(req.News)}
	length := c.integer("length", true, 0, 1)
	sum := 0
	for _, k := range []string{"minLower", "minNumeric", "minSpecial", "minUpper"} {
		sum += c.integer(k, false, 0, 0)
	}
	for _, k := range []string{"lower", "special", "upper"} {
		c.boolean(k, true)
	}
	// numeric and its deprecated alias number are kept equal.
	switch {
	case !fw.Has(c.in, "numeric") && !fw.Has(c.in, "number"):
		c.in["numeric"], c.in["number"] = fw.Bool(true), fw.Bool(true)
	case !fw.Has(c.in, "numeric"):
		c.in["numeric"] = c.in["number"]
	case !fw.Has(c.in, "number"):
		c.in["number"] = c.in["numeric"]
	case c.known("numeric") && c.known("number"):
		a, _ := fw.GetBool(c.in, "numeric")
		b, _ := fw.GetBool(c.in, "number")
		if a != b {
			c.fail("number", "number and numeric must not be set to different values (number is deprecated: use numeric)")
		}
	}
	c.boolean("numeric", true)
	c.boolean("number", true)
	c.optionalString("overrideSpecial")
	c.keepers()
	if c.known("length") && length >= 1 && length < sum {
		c.fail("length", "length (%d) must be >= minUpper + minLower + minNumeric + minSpecial (%d)", length, sum)
	}
	return c.in, c.failures, nil
}

func (password) Diff(_ context.Context, req fw.DiffRequest) (fw.DiffResult, error) {
	return replaceOnAnyChange(req, passwordInputs), nil
}

func (password) Create(_ context.Context, req fw.CreateRequest) (string, fw.PropertyMap, error) {
	outs := onlyInputs(req.Inputs, passwordInputs)
	if req.Preview {
		outs["result"] = fw.Unknown()
		outs["bcryptHash"] = fw.Unknown()
		return "", outs, nil
	}
	opts := passwordOptions{
		Length:     fw.IntOr(req.Inputs, "length", 0),
		Upper:      fw.BoolOr(req.Inputs, "upper", true),
		Lower:      fw.BoolOr(req.Inputs, "lower", true),
		Numeric:    fw.BoolOr(req.Inputs, "numeric", fw.BoolOr(req.Inputs, "number", true)),
		Special:    fw.BoolOr(req.Inputs, "special", true),
		MinUpper:   fw.IntOr(req.Inputs, "minUpper", 0),
		MinLower:   fw.IntOr(req.Inputs, "minLower", 0),
		MinNumeric: fw.IntOr(req.Inputs, "minNumeric", 0),
		MinSpecial: fw.IntOr(req.Inputs, "minSpecial", 0),
		Specials:   fw.StringOr(req.Inputs, "overrideSpecial", ""),
	}
	result, err := generatePassword(opts)
	if err != nil {
		return "", nil, err
	}
	hash, err := bcryptHash(result)
	if err != nil {
		return "", nil, err
	}
	outs["result"] = fw.Secret(fw.Str(result))
	outs["bcryptHash"] = fw.Secret(fw.Str(hash))
	return "none", outs, nil
}

type passwordOptions struct {
	Length                                     int
	Upper, Lower, Numeric, Special             bool
	MinUpper, MinLower, MinNumeric, MinSpecial int
	Specials                                   string // override of the special set; "" = default
}

// generatePassword picks the minimum counts from each set, fills the rest
// from all enabled sets and shuffles the result.
func generatePassword(o passwordOptions) (string, error) {
	if o.Length < 1 {
		return "", fmt.Errorf("length (%d) must be >= 1", o.Length)
	}
	specials := specialChars
	if o.Specials != "" {
		specials = o.Specials
	}
	sum := o.MinUpper + o.MinLower + o.MinNumeric + o.MinSpecial
	if o.Length < sum {
		return "", fmt.Errorf("length (%d) must be >= minUpper + minLower + minNumeric + minSpecial (%d)", o.Length, sum)
	}
	all := ""
	if o.Upper {
		all += upperChars
	}
	if o.Lower {
		all += lowerChars
	}
	if o.Numeric {
		all += numericChars
	}
	if o.Special {
		all += specials
	}
	if all == "" && o.Length > sum {
		return "", errors.New("at least one of upper, lower, numeric and special must be true")
	}
	out := make([]byte, 0, o.Length)
	for _, part := range []struct {
		set string
		n   int
	}{{upperChars, o.MinUpper}, {lowerChars, o.MinLower}, {numericChars, o.MinNumeric}, {specials, o.MinSpecial}} {
		s, err := pick(part.set, part.n)
		if err != nil {
			return "", err
		}
		out = append(out, s...)
	}
	rest, err := pick(all, o.Length-len(out))
	if err != nil {
		return "", err
	}
	out = append(out, rest...)
	// Fisher-Yates shuffle with crypto/rand.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(set string, n int) ([]byte, error) {
	out := make([]byte, n)
	if n == 0 {
		return out, nil
	}
	max := big.NewInt(int64(len(set)))
	for i := range out {
		idx, err := rand.Int(rand.Reader, max)
		if err != nil {
			return nil, fmt.Errorf("reading random bytes: %w", err)
		}
		out[i] = set[idx.Int64()]
	}
	return out, nil
}

// bcryptHash hashes s with the default cost. bcrypt only uses the first 72
// bytes of its input, so longer passwords are hashed on those.
func bcryptHash(s string) (string, error) {
	b := []byte(s)
	if len(b) > 72 {
		b = b[:72]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("computing bcryptHash: %w", err)
	}
	return string(h), nil
}

// ---------------------------------------------------------------------------
// RandomBytes

var bytesInputs = []string{"keepers", "length"}

type randomBytes struct{ fw.Base }

func (randomBytes) Check(_ context.Context, req fw.CheckRequest) (fw.PropertyMap, []fw.CheckFailure, error) {
	c := &checker{in: fw.Copy(req.News)}
	c.integer("length", true, 0, 1)
	c.keepers()
	return c.in, c.failures, nil
}

func (randomBytes) Diff(_ context.Context, req fw.DiffRequest) (fw.DiffResult, error) {
	return replaceOnAnyChange(req, bytesInputs), nil
}

func (randomBytes) Create(_ context.Context, req fw.CreateRequest) (string, fw.PropertyMap, error) {
	outs := onlyInputs(req.Inputs, bytesInputs)
	if req.Preview {
		outs["base64"] = fw.Unknown()
		outs["hex"] = fw.Unknown()
		return "", outs, nil
	}
	n, ok := fw.GetInt(req.Inputs, "length")
	if !ok || n < 1 {
		return "", nil, errors.New("length must be a whole number >= 1")
	}
	b, err := randomBytesN(n)
	if err != nil {
		return "", nil, err
	}
	outs["base64"] = fw.Secret(fw.Str(base64.StdEncoding.EncodeToString(b)))
	outs["hex"] = fw.Secret(fw.Str(hex.EncodeToString(b)))
	return "none", outs, nil
}

// ---------------------------------------------------------------------------
// RandomId

var idInputs = []string{"byteLength", "keepers", "prefix"}

type randomID struct{ fw.Base }

func (randomID) Check(_ context.Context, req fw.CheckRequest) (fw.PropertyMap, []fw.CheckFailure, error) {
	c := &checker{in: fw.Copy(req.News)}
	c.integer("byteLength", true, 0, 1)
	c.optionalString("prefix")
	c.keepers()
	return c.in, c.failures, nil
}

func (randomID) Diff(_ context.Context, req fw.DiffRequest) (fw.DiffResult, error) {
	return replaceOnAnyChange(req, idInputs), nil
}

func (randomID) Create(_ context.Context, req fw.CreateRequest) (string, fw.PropertyMap, error) {
	outs := onlyInputs(req.Inputs, idInputs)
	if req.Preview {
		for _, k := range []resource.PropertyKey{"b64Std", "b64Url", "dec", "hex"} {
			outs[k] = fw.Unknown()
		}
		return "", outs, nil
	}
	n, ok := fw.GetInt(req.Inputs, "byteLength")
	if !ok || n < 1 {
		return "", nil, errors.New("byteLength must be a whole number >= 1")
	}
	b, err := randomBytesN(n)
	if err != nil {
		return "", nil, err
	}
	id, vals := idValues(b, fw.StringOr(req.Inputs, "prefix", ""))
	secret := fw.IsSecret(req.Inputs, "prefix")
	for k, v := range vals {
		outs[resource.PropertyKey(k)] = fw.SecretIf(fw.Str(v), secret)
	}
	return id, outs, nil
}

// idValues returns the resource ID (URL-safe base64 without prefix) and the
// prefixed outputs.
func idValues(b []byte, prefix string) (string, map[string]string) {
	id := base64.RawURLEncoding.EncodeToString(b)
	return id, map[string]string{
		"b64Url": prefix + id,
		"b64Std": prefix + base64.StdEncoding.EncodeToString(b),
		"hex":    prefix + hex.EncodeToString(b),
		"dec":    prefix + new(big.Int).SetBytes(b).String(),
	}
}
