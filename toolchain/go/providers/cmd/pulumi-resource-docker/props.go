package main

import (
	"fmt"
	"sort"
	"strings"

	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

type pmap = framework.PropertyMap

func key(k string) resource.PropertyKey { return resource.PropertyKey(k) }

// strList builds an array of strings.
func strList(ss []string) resource.PropertyValue {
	out := make([]resource.PropertyValue, 0, len(ss))
	for _, s := range ss {
		out = append(out, resource.NewProperty(s))
	}
	return resource.NewProperty(out)
}

// strMap builds an object of strings.
func strMap(m map[string]string) resource.PropertyValue {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[key(k)] = resource.NewProperty(v)
	}
	return resource.NewProperty(out)
}

// objList returns the list of objects at k with secrets stripped; entries that are not objects
// (unknown during preview) are skipped.
func objList(m pmap, k string) []pmap {
	v, ok := m[key(k)]
	if !ok {
		return nil
	}
	v = framework.Plain(v)
	if !v.IsArray() {
		return nil
	}
	var out []pmap
	for _, e := range v.ArrayValue() {
		if e.IsObject() {
			out = append(out, e.ObjectValue())
		}
	}
	return out
}

// object returns the object at k with secrets stripped.
func object(m pmap, k string) (pmap, bool) {
	v, ok := m[key(k)]
	if !ok {
		return nil, false
	}
	v = framework.Plain(v)
	if !v.IsObject() {
		return nil, false
	}
	return v.ObjectValue(), true
}

func str(m pmap, k string) string { return framework.StringOr(m, k, "") }

func strs(m pmap, k string) []string {
	s, _ := framework.GetStringList(m, k)
	return s
}

func smap(m pmap, k string) map[string]string {
	s, _ := framework.GetStringMap(m, k)
	return s
}

// labelsToMap turns the SDK's [{label, value}] list into a map.
func labelsToMap(m pmap, k string) map[string]string {
	items := objList(m, k)
	if len(items) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, it := range items {
		out[str(it, "label")] = str(it, "value")
	}
	return out
}

// mapToLabels is the inverse of labelsToMap, sorted by label.
func mapToLabels(m map[string]string) resource.PropertyValue {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]resource.PropertyValue, 0, len(keys))
	for _, k := range keys {
		out = append(out, resource.NewProperty(resource.PropertyMap{
			"label": resource.NewProperty(k),
			"value": resource.NewProperty(m[k]),
		}))
	}
	return resource.NewProperty(out)
}

// checkLabels validates a [{label, value}] list.
func checkLabels(m pmap, k string) []framework.CheckFailure {
	var fails []framework.CheckFailure
	seen := map[string]bool{}
	for i, it := range objList(m, k) {
		if framework.IsUnknown(it, "label") {
			continue
		}
		l, ok := framework.GetString(it, "label")
		if !ok || l == "" {
			fails = append(fails, framework.CheckFailure{Property: fmt.Sprintf("%s[%d].label", k, i), Reason: "a label needs a non-empty name"})
			continue
		}
		if seen[l] {
			fails = append(fails, framework.CheckFailure{Property: fmt.Sprintf("%s[%d].label", k, i), Reason: fmt.Sprintf("label %q is given twice", l)})
		}
		seen[l] = true
	}
	return fails
}

// defaults says which value of a property means the same as leaving it out.
type defaults map[string]resource.PropertyValue

// normalize returns m with secrets stripped and without the properties whose value is the
// default, an empty list, an empty map or an object of only empty members, so that "absent" and
// "default" compare equal in a diff. Unknown values are kept.
func normalize(m pmap, defs defaults) pmap {
	out := pmap{}
	for k, v := range m {
		v = framework.Plain(v)
		if v.ContainsUnknowns() {
			out[k] = v
			continue
		}
		if isEmpty(v) {
			continue
		}
		if d, ok := defs[string(k)]; ok && d.DeepEquals(v) {
			continue
		}
		out[k] = v
	}
	return out
}

func isEmpty(v resource.PropertyValue) bool {
	switch {
	case v.IsNull():
		return true
	case v.IsArray():
		return len(v.ArrayValue()) == 0
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	}
	return false
}

// autoname fills in "name" the way the bridged provider does: keep the name of the previous
// inputs when the program gives none, else the resource's logical name plus "-" and seven random
// hex digits (deterministic for a given random seed).
func autoname(req framework.CheckRequest, maxLen int) (pmap, error) {
	news := framework.Copy(req.News)
	if framework.Has(news, "name") {
		return news, nil
	}
	if old, ok := framework.GetString(req.Olds, "name"); ok && old != "" {
		news[key("name")] = resource.NewProperty(old)
		return news, nil
	}
	n, err := resource.NewUniqueName(req.RandomSeed, req.Name+"-", 7, maxLen, nil)
	if err != nil {
		return nil, err
	}
	news[key("name")] = resource.NewProperty(n)
	return news, nil
}

// unsupported reports properties this provider does not implement when they carry a value
// other than their default.
func unsupported(m pmap, defs defaults, keys ...string) []framework.CheckFailure {
	var fails []framework.CheckFailure
	norm := normalize(m, defs)
	for _, k := range keys {
		if _, ok := norm[key(k)]; ok {
			fails = append(fails, framework.CheckFailure{
				Property: k,
				Reason:   fmt.Sprintf("%q is not supported by this Docker provider (consul-swarm's own plugin); leave it unset", k),
			})
		}
	}
	return fails
}

// sameStringSet compares lists as sets.
func sameStringSet(a, b []string, norm func(string) string) bool {
	set := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range l {
			if norm != nil {
				s = norm(s)
			}
			m[s] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	if len(sa) != len(sb) {
		return false
	}
	for s := range sa {
		if !sb[s] {
			return false
		}
	}
	return true
}

// normCap makes "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" compare equal.
func normCap(s string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CAP_")
}

// diffWith is DiffInputs over normalized inputs, then adds delete-before-replace when asked.
func diffWith(olds, news pmap, defs defaults, replace func(string) bool, dbr func(framework.DiffResult) bool) framework.DiffResult {
	d := framework.DiffInputs(normalize(olds, defs), normalize(news, defs), replace)
	if len(d.Replaces) > 0 && dbr != nil && dbr(d) {
		d.DeleteBeforeReplace = true
	}
	return d
}
