package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseExtraVars(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "extra.yml")
	if err := os.WriteFile(file, []byte("a: 1\nlist: [x, y]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("a: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		want    map[string]any
		wantErr string
	}{
		{[]string{"a=1", "b=x=y", "c="}, map[string]any{"a": "1", "b": "x=y", "c": ""}, ""},
		{[]string{"@" + file, "a=override"}, map[string]any{"a": "override", "list": []any{"x", "y"}}, ""},
		{[]string{"a=first", "@" + file}, map[string]any{"a": 1, "list": []any{"x", "y"}}, ""},
		{nil, map[string]any{}, ""},
		{[]string{"novalue"}, nil, "want key=value or @file.yml"},
		{[]string{"bad-name=1"}, nil, `invalid variable name "bad-name"`},
		{[]string{"@" + filepath.Join(dir, "missing.yml")}, nil, "no such file"},
		{[]string{"@" + bad}, nil, "bad.yml:1: invalid YAML"},
	}
	for _, tt := range tests {
		got, err := ParseExtraVars(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseExtraVars(%q) error = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseExtraVars(%q) = %v, %v; want %v", tt.args, got, err, tt.want)
		}
	}
}
