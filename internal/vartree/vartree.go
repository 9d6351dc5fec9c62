// Package vartree copies the trees of maps and lists that variables decode
// into (YAML, JSON, -e values, a template's typed result), so that a value
// handed on shares nothing with where it came from.
package vartree

// Copy returns v with every map and list copied, all the way down.
func Copy(v any) any {
	return Map(v, func(leaf any) any { return leaf })
}

// Map returns v with every map and list copied and every other value (a
// leaf: string, number, bool, nil) replaced by leaf(value). A []string is
// copied as it is: its strings are not leaves.
func Map(v any, leaf func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		return mapOf(x, leaf)
	case map[any]any:
		return mapOf(x, leaf)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Map(e, leaf)
		}
		return out
	case []string:
		return append([]string(nil), x...)
	}
	return leaf(v)
}

func mapOf[K comparable](m map[K]any, leaf func(any) any) map[K]any {
	out := make(map[K]any, len(m))
	for k, e := range m {
		out[k] = Map(e, leaf)
	}
	return out
}
