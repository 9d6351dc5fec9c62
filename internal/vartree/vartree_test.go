package vartree

import (
	"reflect"
	"testing"
)

func TestCopySharesNothing(t *testing.T) {
	in := map[string]any{
		"list":  []any{1, map[string]any{"a": "b"}},
		"yaml":  map[any]any{1: []any{"x"}},
		"names": []string{"web", "db"},
		"n":     2.5,
	}
	out := Copy(in).(map[string]any)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("copy differs:\n got %#v\nwant %#v", out, in)
	}
	out["list"].([]any)[1].(map[string]any)["a"] = "changed"
	out["yaml"].(map[any]any)[1].([]any)[0] = "changed"
	out["names"].([]string)[0] = "changed"
	if in["list"].([]any)[1].(map[string]any)["a"] != "b" || in["yaml"].(map[any]any)[1].([]any)[0] != "x" || in["names"].([]string)[0] != "web" {
		t.Errorf("changing the copy changed the original: %#v", in)
	}
}

func TestMapReplacesLeaves(t *testing.T) {
	double := func(v any) any {
		if f, ok := v.(float64); ok {
			return f * 2
		}
		return v
	}
	got := Map(map[string]any{"a": 1.5, "b": []any{2.0, "s"}, "c": []string{"x"}}, double)
	want := map[string]any{"a": 3.0, "b": []any{4.0, "s"}, "c": []string{"x"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if got := Map(nil, double); got != nil {
		t.Errorf("Map(nil) = %#v, want nil", got)
	}
}
