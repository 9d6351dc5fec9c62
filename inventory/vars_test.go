package inventory

import (
	"reflect"
	"testing"
)

const precedenceInv = `
vars: {a: all, b: all, c: all, d: all, e: all, m: {x: 1, y: 2}}
groups:
  frontend:
    children: [web]
    vars: {b: parent, c: parent, d: parent, e: parent}
  web:
    vars: {c: child, d: child, e: child}
    hosts:
      web-01: {address: 198.18.0.21, vars: {d: host, e: host, m: {x: 3}}}
  lb:
    hosts:
      lb-01: {address: 198.18.0.11}
`

func TestVarsForPrecedence(t *testing.T) {
	inv, err := loadTree(t, "inv.yml", map[string]string{"inv.yml": precedenceInv})
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]any{"r": "default", "a": "default", "b": "default", "c": "default", "d": "default", "e": "default"}
	extra := map[string]any{"e": "extra", "x": "extra"}
	tests := []struct {
		host, key string
		want      any
	}{
		{"web-01", "r", "default"},              // only a role default
		{"web-01", "a", "all"},                  // all beats role defaults
		{"web-01", "b", "parent"},               // parent group beats all
		{"web-01", "c", "child"},                // child group beats parent
		{"web-01", "d", "host"},                 // host beats groups
		{"web-01", "e", "extra"},                // -e beats everything
		{"web-01", "x", "extra"},                // -e adds new keys too
		{"web-01", "m", map[string]any{"x": 3}}, // replaced whole, not merged
		{"lb-01", "c", "all"},                   // another branch sees none of web's
		{"lb-01", "m", map[string]any{"x": 1, "y": 2}},
		{"lb-01", "r", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.host+"/"+tt.key, func(t *testing.T) {
			got := inv.VarsFor(inv.Host(tt.host), defaults, extra)[tt.key]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s.%s = %#v, want %#v", tt.host, tt.key, got, tt.want)
			}
		})
	}
}

// TestVarsForCopies: a caller changing the merged vars must not change the
// inventory (hosts are rendered in parallel from the same inventory).
func TestVarsForCopies(t *testing.T) {
	inv, err := loadTree(t, "inv.yml", map[string]string{"inv.yml": precedenceInv})
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Host("lb-01")
	first := inv.VarsFor(h, nil, nil)
	first["m"].(map[string]any)["x"] = 99
	first["a"] = "changed"
	again := inv.VarsFor(h, nil, nil)
	if again["a"] != "all" || again["m"].(map[string]any)["x"] != 1 {
		t.Errorf("inventory changed through VarsFor's result: %v", again)
	}
}
