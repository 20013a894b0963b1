package framework

import (
	"math"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
)

// Unknown is a value not known during preview (a computed output).
func Unknown() resource.PropertyValue {
	return resource.MakeComputed(resource.NewProperty(""))
}

// Secret wraps v as a secret (no-op if it already is one).
func Secret(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() {
		return v
	}
	return resource.MakeSecret(v)
}

// SecretIf wraps v as a secret when cond is true.
func SecretIf(v resource.PropertyValue, cond bool) resource.PropertyValue {
	if cond {
		return Secret(v)
	}
	return v
}

// Plain strips every secret wrapper from v, recursively. Unknowns stay.
func Plain(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return Plain(v.SecretValue().Element)
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return Unknown()
		}
		return Plain(o.Element)
	case v.IsArray():
		in := v.ArrayValue()
		out := make([]resource.PropertyValue, len(in))
		for i, e := range in {
			out[i] = Plain(e)
		}
		return resource.NewProperty(out)
	case v.IsObject():
		return resource.NewProperty(PlainMap(v.ObjectValue()))
	}
	return v
}

// PlainMap is Plain for a whole map.
func PlainMap(m PropertyMap) PropertyMap {
	out := PropertyMap{}
	for k, v := range m {
		out[k] = Plain(v)
	}
	return out
}

// Copy returns a shallow copy of m (values are immutable in practice).
func Copy(m PropertyMap) PropertyMap {
	out := PropertyMap{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Has reports whether key is present and not null.
func Has(m PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	return ok && !v.IsNull()
}

// IsUnknown reports whether the value at key is, or contains, an unknown.
func IsUnknown(m PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	return ok && v.ContainsUnknowns()
}

// AnyUnknown reports whether any of keys (all keys when none given) holds an unknown.
func AnyUnknown(m PropertyMap, keys ...string) bool {
	if len(keys) == 0 {
		return m.ContainsUnknowns()
	}
	for _, k := range keys {
		if IsUnknown(m, k) {
			return true
		}
	}
	return false
}

// IsSecret reports whether the value at key is, or contains, a secret.
func IsSecret(m PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	return ok && v.ContainsSecrets()
}

// AnySecret reports whether any of keys (all keys when none given) holds a secret.
func AnySecret(m PropertyMap, keys ...string) bool {
	if len(keys) == 0 {
		return m.ContainsSecrets()
	}
	for _, k := range keys {
		if IsSecret(m, k) {
			return true
		}
	}
	return false
}

func get(m PropertyMap, key string) (resource.PropertyValue, bool) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return v, false
	}
	v = Plain(v)
	if v.IsNull() || v.IsComputed() {
		return v, false
	}
	return v, true
}

// GetString returns the string at key (secrets unwrapped). ok is false when
// missing, null, unknown or not a string.
func GetString(m PropertyMap, key string) (string, bool) {
	v, ok := get(m, key)
	if !ok || !v.IsString() {
		return "", false
	}
	return v.StringValue(), true
}

// StringOr returns the string at key or def.
func StringOr(m PropertyMap, key, def string) string {
	if s, ok := GetString(m, key); ok {
		return s
	}
	return def
}

// GetBool returns the bool at key.
func GetBool(m PropertyMap, key string) (bool, bool) {
	v, ok := get(m, key)
	if !ok || !v.IsBool() {
		return false, false
	}
	return v.BoolValue(), true
}

// BoolOr returns the bool at key or def.
func BoolOr(m PropertyMap, key string, def bool) bool {
	if b, ok := GetBool(m, key); ok {
		return b
	}
	return def
}

// GetNumber returns the number at key.
func GetNumber(m PropertyMap, key string) (float64, bool) {
	v, ok := get(m, key)
	if !ok || !v.IsNumber() {
		return 0, false
	}
	return v.NumberValue(), true
}

// GetInt returns the number at key as an int; ok is false if it is not a whole number.
func GetInt(m PropertyMap, key string) (int, bool) {
	f, ok := GetNumber(m, key)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// IntOr returns the int at key or def.
func IntOr(m PropertyMap, key string, def int) int {
	if i, ok := GetInt(m, key); ok {
		return i
	}
	return def
}

// GetObject returns the object at key (top-level secret unwrapped, inner
// values kept as they are).
func GetObject(m PropertyMap, key string) (PropertyMap, bool) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return nil, false
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsObject() {
		return nil, false
	}
	return v.ObjectValue(), true
}

// GetStringMap returns a map of strings at key (secrets unwrapped; non-string
// and unknown entries skipped).
func GetStringMap(m PropertyMap, key string) (map[string]string, bool) {
	v, ok := get(m, key)
	if !ok || !v.IsObject() {
		return nil, false
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		if e.IsString() {
			out[string(k)] = e.StringValue()
		}
	}
	return out, true
}

// GetStringList returns a list of strings at key (secrets unwrapped).
func GetStringList(m PropertyMap, key string) ([]string, bool) {
	v, ok := get(m, key)
	if !ok || !v.IsArray() {
		return nil, false
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out, true
}

// GetAsset returns the asset at key.
func GetAsset(m PropertyMap, key string) (*asset.Asset, bool) {
	v, ok := get(m, key)
	if !ok || !v.IsAsset() {
		return nil, false
	}
	return v.AssetValue(), true
}

// SortedKeys returns the keys of m in order.
func SortedKeys(m PropertyMap) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys
}

// Str, Num, Bool build property values.
func Str(s string) resource.PropertyValue      { return resource.NewProperty(s) }
func Num(f float64) resource.PropertyValue     { return resource.NewProperty(f) }
func Bool(b bool) resource.PropertyValue       { return resource.NewProperty(b) }
func Obj(m PropertyMap) resource.PropertyValue { return resource.NewProperty(m) }
