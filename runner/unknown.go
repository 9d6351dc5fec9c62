package runner

import (
	"fmt"
	"sort"
	"strings"
	"text/template/parse"

	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/hoststate"
	"github.com/ferry-deploy/ferry/templates"
)

// In check mode a command that would run registers values nobody can know
// yet (hoststate.Value). A task whose when:, loop, arguments or template
// read one of them is not rendered with it: it is reported unknown, with
// the reason, instead of planned against a guess.

// unknownResult is what register stores for a task check mode cannot
// predict; changed is known for a command that would run.
func unknownResult(because string, changed any) map[string]any {
	u := hoststate.Value{Because: because}
	return map[string]any{"changed": changed, "failed": u, "skipped": false, "rc": u, "stdout": u, "stderr": u}
}

// unknownReads returns why texts cannot be rendered in check mode: the
// first reference ".name.field" to a registered value that is unknown, or
// "" when every value they read is known. A template that does not parse
// is left to the renderer to report.
func unknownReads(registered map[string]any, texts ...string) string {
	if !hasUnknown(registered) {
		return ""
	}
	for _, text := range texts {
		if !strings.Contains(text, "{{") {
			continue
		}
		tr := parse.New("check")
		tr.Mode = parse.SkipFuncCheck
		if _, err := tr.Parse(text, "", "", map[string]*parse.Tree{}); err != nil || tr.Root == nil {
			continue
		}
		if why := walkNode(tr.Root, registered); why != "" {
			return why
		}
	}
	return ""
}

func walkNode(n parse.Node, registered map[string]any) string {
	switch n := n.(type) {
	case *parse.FieldNode:
		return unknownAt(registered, n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return unknownAt(registered, n.Ident[1:])
		}
	case *parse.ChainNode:
		return walkNode(n.Node, registered)
	case *parse.ListNode:
		if n != nil {
			return walkAll(n.Nodes, registered)
		}
	case *parse.ActionNode:
		return walkNode(n.Pipe, registered)
	case *parse.PipeNode:
		if n != nil {
			return walkAll(n.Cmds, registered)
		}
	case *parse.CommandNode:
		return walkAll(n.Args, registered)
	case *parse.IfNode:
		return walkBranch(&n.BranchNode, registered)
	case *parse.RangeNode:
		return walkBranch(&n.BranchNode, registered)
	case *parse.WithNode:
		return walkBranch(&n.BranchNode, registered)
	case *parse.TemplateNode:
		return walkNode(n.Pipe, registered)
	}
	return ""
}

func walkBranch(b *parse.BranchNode, registered map[string]any) string {
	return walkAll([]parse.Node{b.Pipe, b.List, b.ElseList}, registered)
}

// walkAll returns the first reason found in nodes, in order.
func walkAll[N parse.Node](nodes []N, registered map[string]any) string {
	for _, n := range nodes {
		if why := walkNode(n, registered); why != "" {
			return why
		}
	}
	return ""
}

// unknownAt follows a field chain into the registered values and reports
// an unknown value at or below its end.
func unknownAt(registered map[string]any, ident []string) string {
	if len(ident) == 0 {
		return ""
	}
	var v any = registered
	var walked []string
	for _, name := range ident {
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		if v, ok = m[name]; !ok {
			return ""
		}
		walked = append(walked, name)
	}
	if why := firstUnknown(v); why != "" {
		return fmt.Sprintf(".%s is unknown: %s", strings.Join(walked, "."), why)
	}
	return ""
}

func firstUnknown(v any) string {
	switch v := v.(type) {
	case hoststate.Value:
		return v.Because
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if why := firstUnknown(v[k]); why != "" {
				return why
			}
		}
	}
	return ""
}

func hasUnknown(registered map[string]any) bool {
	for _, v := range registered {
		if firstUnknown(v) != "" {
			return true
		}
	}
	return false
}

// taskTexts lists every template a task renders before it runs: when:,
// the loop, the arguments and a template module's source file.
func taskTexts(t *roles.Task) []string {
	var out []string
	if t.When != "" {
		out = append(out, templates.WrapExpr(t.When))
	}
	if t.LoopExpr != "" {
		out = append(out, t.LoopExpr)
	}
	if t.LoopVar != "" {
		out = append(out, "{{ ."+t.LoopVar+" }}")
	}
	out = appendStrings(out, t.LoopItems)
	out = appendStrings(out, t.Args)
	out = appendStrings(out, t.Vars)
	out = appendStrings(out, t.Environment)
	texts, _ := templateTexts(t)
	out = append(out, texts...)
	return out
}

func appendStrings(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, x := range v {
			out = appendStrings(out, x)
		}
	case map[string]any:
		for _, x := range v {
			out = appendStrings(out, x)
		}
	}
	return out
}
