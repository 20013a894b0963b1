package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

// Input keys of each resource type (as the npm SDK sends them).
var (
	commonCommandInputs = []string{
		"addPreviousOutputInEnv", "create", "delete", "environment", "logging",
		"stdin", "triggers", "update",
	}
	remoteCommandInputs = append([]string{"connection"}, commonCommandInputs...)
	localCommandInputs  = append([]string{"archivePaths", "assetPaths", "dir", "interpreter"}, commonCommandInputs...)
	copyInputs          = []string{"connection", "remotePath", "source", "triggers"}

	loggingValues = map[string]bool{"stdout": true, "stderr": true, "stdoutAndStderr": true, "none": true}
)

// Connection defaults, as in the npm SDK's connectionArgsProvideDefaults.
const (
	defaultPort           = 22
	defaultUser           = "root"
	defaultDialErrorLimit = 10
	defaultPerDialTimeout = 15
)

type checker struct {
	in       fw.PropertyMap
	failures []fw.CheckFailure
}

func (c *checker) fail(prop, format string, args ...any) {
	c.failures = append(c.failures, fw.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)})
}

// value returns the known plain value at key of m; ok is false when absent,
// null or unknown.
func value(m fw.PropertyMap, key string) (resource.PropertyValue, bool) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || v.IsNull() || v.ContainsUnknowns() {
		return v, false
	}
	return fw.Plain(v), true
}

func (c *checker) str(m fw.PropertyMap, prefix, key string) {
	if v, ok := value(m, key); ok && !v.IsString() {
		c.fail(prefix+key, "%s must be a string", prefix+key)
	}
}

func (c *checker) boolean(m fw.PropertyMap, prefix, key string) {
	if v, ok := value(m, key); ok && !v.IsBool() {
		c.fail(prefix+key, "%s must be a boolean", prefix+key)
	}
}

func (c *checker) integer(m fw.PropertyMap, prefix, key string, min int) {
	v, ok := value(m, key)
	if !ok {
		return
	}
	if !v.IsNumber() || v.NumberValue() != float64(int(v.NumberValue())) {
		c.fail(prefix+key, "%s must be a whole number", prefix+key)
		return
	}
	if int(v.NumberValue()) < min {
		c.fail(prefix+key, "%s must be >= %d", prefix+key, min)
	}
}

func (c *checker) stringMap(key string) {
	v, ok := c.in[resource.PropertyKey(key)]
	if !ok || v.IsNull() || v.IsComputed() {
		return
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsObject() {
		c.fail(key, "%s must be a map of strings", key)
		return
	}
	for k, e := range v.ObjectValue() {
		p := fw.Plain(e)
		if !p.IsString() && !p.IsComputed() && !p.IsNull() {
			c.fail(key+"."+string(k), "%s.%s must be a string", key, k)
		}
	}
}

func (c *checker) stringList(key string) {
	v, ok := value(c.in, key)
	if !ok {
		return
	}
	if !v.IsArray() {
		c.fail(key, "%s must be a list of strings", key)
		return
	}
	for i, e := range v.ArrayValue() {
		if !e.IsString() && !e.IsComputed() {
			c.fail(fmt.Sprintf("%s[%d]", key, i), "%s[%d] must be a string", key, i)
		}
	}
}

func (c *checker) logging() {
	v, ok := value(c.in, "logging")
	if !ok {
		return
	}
	if !v.IsString() || !loggingValues[v.StringValue()] {
		c.fail("logging", "logging must be one of stdout, stderr, stdoutAndStderr, none")
	}
}

// connection validates the connection object and fills in the defaults.
// The connection is always returned secret, as upstream (the schema marks
// `connection` secret and infer's Check applies it to the checked inputs).
func (c *checker) connection(key string, required bool) {
	v, ok := c.in[resource.PropertyKey(key)]
	if !ok || v.IsNull() {
		if required {
			c.fail(key, "missing required property '%s'", key)
		}
		return
	}
	if v.ContainsUnknowns() && !isObjectish(v) {
		return
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsObject() {
		c.fail(key, "%s must be an object", key)
		return
	}
	conn := c.connectionObject(key+".", v.ObjectValue(), true)
	c.in[resource.PropertyKey(key)] = fw.Secret(resource.NewProperty(conn))
}

func isObjectish(v resource.PropertyValue) bool {
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v.IsObject()
}

func (c *checker) connectionObject(prefix string, in fw.PropertyMap, allowProxy bool) fw.PropertyMap {
	m := fw.Copy(in)
	if !fw.Has(m, "host") {
		c.fail(prefix+"host", "missing required property '%shost'", prefix)
	}
	setDefault(m, "port", fw.Num(defaultPort))
	setDefault(m, "user", fw.Str(defaultUser))
	setDefault(m, "dialErrorLimit", fw.Num(defaultDialErrorLimit))
	setDefault(m, "perDialTimeout", fw.Num(defaultPerDialTimeout))
	for _, k := range []string{"host", "user", "password", "privateKey", "privateKeyPassword", "agentSocketPath", "hostKey"} {
		c.str(m, prefix, k)
	}
	c.integer(m, prefix, "port", 1)
	c.integer(m, prefix, "dialErrorLimit", -1)
	c.integer(m, prefix, "perDialTimeout", 0)
	if p, ok := m["proxy"]; ok && !p.IsNull() && !p.ContainsUnknowns() {
		if !allowProxy {
			c.fail(prefix+"proxy", "a proxy connection cannot have a proxy")
		} else {
			secret := p.IsSecret()
			if secret {
				p = p.SecretValue().Element
			}
			if !p.IsObject() {
				c.fail(prefix+"proxy", "%sproxy must be an object", prefix)
			} else {
				pv := resource.NewProperty(c.connectionObject(prefix+"proxy.", p.ObjectValue(), false))
				if secret {
					pv = fw.Secret(pv)
				}
				m["proxy"] = pv
			}
		}
	}
	return m
}

func setDefault(m fw.PropertyMap, key string, v resource.PropertyValue) {
	if !fw.Has(m, key) {
		m[resource.PropertyKey(key)] = v
	}
}

// onlyKeys keeps the given keys of m (nulls dropped).
func onlyKeys(m fw.PropertyMap, keys []string) fw.PropertyMap {
	out := fw.PropertyMap{}
	for _, k := range keys {
		if v, ok := m[resource.PropertyKey(k)]; ok && !v.IsNull() {
			out[resource.PropertyKey(k)] = v
		}
	}
	return out
}

// secretStrings returns the string leaves of v that sit under a secret
// wrapper (all of them when inSecret), for masking in logs and errors.
func secretStrings(v resource.PropertyValue, inSecret bool) []string {
	switch {
	case v.IsSecret():
		return secretStrings(v.SecretValue().Element, true)
	case v.IsString():
		if inSecret {
			return []string{v.StringValue()}
		}
	case v.IsArray():
		var out []string
		for _, e := range v.ArrayValue() {
			out = append(out, secretStrings(e, inSecret)...)
		}
		return out
	case v.IsObject():
		var out []string
		for _, e := range v.ObjectValue() {
			out = append(out, secretStrings(e, inSecret)...)
		}
		return out
	}
	return nil
}

// secretsOf collects the values to mask for a command run with inputs m.
// The whole connection is secret (the SDK marks it so), but only its
// credentials are masked: masking the host or user name would garble logs.
func secretsOf(m fw.PropertyMap) []string {
	var out []string
	for _, k := range []string{"create", "update", "delete", "stdin", "environment", "triggers"} {
		if v, ok := m[resource.PropertyKey(k)]; ok {
			out = append(out, secretStrings(v, false)...)
		}
	}
	if conn, ok := fw.GetObject(m, "connection"); ok {
		for _, k := range []string{"password", "privateKeyPassword", "privateKey"} {
			if s, ok := fw.GetString(conn, k); ok {
				out = append(out, s)
			}
		}
		if proxy, ok := fw.GetObject(conn, "proxy"); ok {
			for _, k := range []string{"password", "privateKeyPassword", "privateKey"} {
				if s, ok := fw.GetString(proxy, k); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}
