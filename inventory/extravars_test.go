package inventory

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/internal/testfs"
)

func TestParseExtraVars(t *testing.T) {
	dir := testfs.WriteTree(t, map[string]string{"extra.yml": "a: 1\nlist: [x, y]\n", "bad.yml": "a: [\n"})
	file, bad := filepath.Join(dir, "extra.yml"), filepath.Join(dir, "bad.yml")
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
