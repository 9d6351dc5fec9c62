package inventory

import (
	"reflect"
	"testing"
)

// TestPyLiteral compares pyLiteral with Python's ast.literal_eval on the
// same inputs (the expectations were produced by Python 3.11).
func TestPyLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"5", 5},
		{"-5", -5},
		{"+5", 5},
		{"--5", "--5"},
		{"1_000", 1000},
		{"0777", "0777"},
		{"00", 0},
		{"0x1f", 31},
		{"0o17", 15},
		{"0b101", 5},
		{"1.5", float64(1.5)},
		{".5", float64(0.5)},
		{"5.", float64(5.0)},
		{"1e3", float64(1000.0)},
		{"1E-3", float64(0.001)},
		{"1.0e3", float64(1000.0)},
		{"1_0.5", float64(10.5)},
		{"inf", "inf"},
		{"True", true},
		{"true", "true"},
		{"None", nil},
		{"null", "null"},
		{"'5'", "5"},
		{"\"5\"", "5"},
		{"\"a\" \"b\"", "ab"},
		{"'a' 'b' # c", "ab"},
		{"[1, 2]", []any{1, 2}},
		{"[1, 2,]", []any{1, 2}},
		{"(1, 2)", []any{1, 2}},
		{"()", []any{}},
		{"(5)", 5},
		{"1, 2", []any{1, 2}},
		{"1,", []any{1}},
		{"{'k': 'v', 1: 2}", map[string]any{"k": "v", "1": 2}},
		{"{}", map[string]any{}},
		{"{1, 2}", "{1, 2}"},
		{"5 # comment", 5},
		{"abc # comment", "abc # comment"},
		{"\"x # y\"", "x # y"},
		{"80 ; comment", "80 ; comment"},
		{"'a\\nb'", "a\nb"},
		{"r'a\\nb'", "a\\nb"},
		{"u'x'", "x"},
		{"b'x'", "b'x'"},
		{"f'x'", "f'x'"},
		{"'\\x41\\u00e9'", "A\u00e9"},
		{"1+2j", "1+2j"},
		{"5j", "5j"},
		{"web-01", "web-01"},
		{"198.18.0.21", "198.18.0.21"},
		{"/srv/www", "/srv/www"},
		{"[1, 'a', {'b': None}]", []any{1, "a", map[string]any{"b": nil}}},
		{"-1.5", float64(-1.5)},
		{"\"unterminated", "\"unterminated"},
		{"''", ""},
		{"'it''s'", "its"},
		{"0_1", "0_1"},
		{"1__0", "1__0"},
		{" 7", 7},
	}
	for _, tt := range tests {
		if got := pyLiteral(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("pyLiteral(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
