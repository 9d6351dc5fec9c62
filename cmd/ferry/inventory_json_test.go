package main

import (
	"encoding/json"
	"testing"
)

func TestInventoryGraphAndVarsJSON(t *testing.T) {
	inv := completionInv(t)
	out, code := ferry(t, "inventory", "graph", "-i", inv, "--output", "json")
	if code != 0 {
		t.Fatalf("graph: exit %d\n%s", code, out)
	}
	var g graphNode
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatalf("graph: %v\n%s", err, out)
	}
	found := map[string][]string{}
	for _, c := range g.Children {
		found[c.Name] = c.Hosts
	}
	if g.Name != "all" || len(found["web"]) != 2 || found["web"][0] != "web-01" || len(found["lb"]) != 1 {
		t.Errorf("graph: %+v", g)
	}
	out, code = ferry(t, "inventory", "vars", "web-01", "-i", inv, "-o", "json", "-e", "answer=42")
	var vars map[string]any
	if err := json.Unmarshal([]byte(out), &vars); code != 0 || err != nil || vars["answer"] != "42" {
		t.Fatalf("vars: exit %d %v\n%s", code, err, out)
	}
	if _, code = ferry(t, "inventory", "graph", "-i", inv, "-o", "yaml"); code != exitBadInput {
		t.Errorf("graph -o yaml: exit %d, want 3", code)
	}
}
