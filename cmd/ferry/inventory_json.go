package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/ferry-deploy/ferry/inventory"
)

// graphNode is one group of `inventory graph --output json`: its direct
// hosts and its child groups, each sorted by name.
type graphNode struct {
	Name     string      `json:"name"`
	Hosts    []string    `json:"hosts"`
	Children []graphNode `json:"children"`
}

func graphOf(inv *inventory.Inventory, group string) graphNode {
	g := inv.Groups[group]
	n := graphNode{Name: group, Hosts: sorted(g.Hosts), Children: []graphNode{}}
	if n.Hosts == nil {
		n.Hosts = []string{}
	}
	for _, c := range sorted(g.Children) {
		n.Children = append(n.Children, graphOf(inv, c))
	}
	return n
}

func writeGraphJSON(w io.Writer, format string, inv *inventory.Inventory, root string) error {
	if format != "json" {
		return badInput(fmt.Errorf("--output %q: want text or json", format))
	}
	return writeIndentedJSON(w, graphOf(inv, root), inv.Redact)
}

// writeVarsJSON writes a host's merged vars (secrets already masked by
// name) as one JSON object.
func writeVarsJSON(w io.Writer, format string, vars map[string]any, redact func(string) string) error {
	if format != "json" {
		return badInput(fmt.Errorf("--output %q: want yaml or json", format))
	}
	return writeIndentedJSON(w, vars, redact)
}

func writeIndentedJSON(w io.Writer, v any, redact func(string) string) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	// Redact covers a secret value copied into another variable.
	_, err = io.WriteString(w, redact(string(b))+"\n")
	return err
}
