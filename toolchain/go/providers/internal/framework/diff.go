package framework

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// ChangedKeys returns the top-level keys whose values differ between olds
// and news, comparing values with secrets stripped (a change of secretness
// alone is not a change). An unknown new value always counts as changed.
// The result is sorted.
func ChangedKeys(olds, news PropertyMap) []string {
	seen := map[string]bool{}
	var out []string
	check := func(k resource.PropertyKey) {
		if seen[string(k)] {
			return
		}
		seen[string(k)] = true
		o, ook := olds[k]
		n, nok := news[k]
		if ook && o.IsNull() {
			ook = false
		}
		if nok && n.IsNull() {
			nok = false
		}
		switch {
		case !ook && !nok:
			return
		case ook != nok:
			out = append(out, string(k))
		case n.ContainsUnknowns():
			out = append(out, string(k))
		case !Plain(o).DeepEquals(Plain(n)):
			out = append(out, string(k))
		}
	}
	for _, k := range olds.StableKeys() {
		check(k)
	}
	for _, k := range news.StableKeys() {
		check(k)
	}
	sortStrings(out)
	return out
}

// DiffInputs compares olds and news with ChangedKeys and builds a
// DiffResult: a changed key for which replace(key) is true forces
// replacement, any other changed key is an in-place update.
func DiffInputs(olds, news PropertyMap, replace func(key string) bool) DiffResult {
	res := DiffResult{Detailed: map[string]DiffKind{}}
	for _, k := range ChangedKeys(olds, news) {
		res.Changed = true
		rep := replace != nil && replace(k)
		if rep {
			res.Replaces = append(res.Replaces, k)
		}
		res.Detailed[k] = diffKind(olds, news, k, rep)
	}
	return res
}

func diffKind(olds, news PropertyMap, k string, replace bool) DiffKind {
	switch {
	case !Has(olds, k):
		if replace {
			return AddReplace
		}
		return Add
	case !Has(news, k):
		if replace {
			return DeleteReplace
		}
		return Delete
	default:
		if replace {
			return UpdateReplace
		}
		return Update
	}
}

// ReplaceKeys returns a predicate for DiffInputs that is true for the given keys.
func ReplaceKeys(keys ...string) func(string) bool {
	set := map[string]bool{}
	for _, k := range keys {
		set[k] = true
	}
	return func(k string) bool { return set[k] }
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
