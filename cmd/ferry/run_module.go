package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/internal/suggest"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/modules"
	"github.com/ferry-deploy/ferry/runner/report"
)

// runModule runs one module on hosts as the only task of a one-play deploy,
// so it goes through the engine deploy uses: one connection per host, facts,
// templates, check mode, diffs, the reporters and their masking.
func runModule(cmd *cobra.Command, f runFlags, inv *inventory.Inventory, hosts []*inventory.Host, extra map[string]any) error {
	spec, ok := modules.Lookup(f.module)
	if !ok {
		msg := fmt.Sprintf("-m %s: unknown module", f.module)
		if s := suggest.Closest(f.module, modules.Names()); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return badInput(errors.New(msg))
	}
	if f.becomeUser != "" {
		return badInput(errors.New("--become-user goes with -- COMMAND; modules run as the connection user or root (--become)"))
	}
	args, err := parseModuleArgs(f.moduleArgs)
	if err != nil {
		return badInput(fmt.Errorf("-a: %w", err))
	}
	if err := checkModuleArgs(spec, args); err != nil {
		return badInput(err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	role := &roles.Role{Name: "run", Source: "command line", Files: dirSource(cwd), Templates: dirSource(cwd)}
	task := &roles.Task{Name: f.module, Module: f.module, Args: args, Line: 1, Role: role}
	if f.become {
		become := true
		task.Become = &become
	}
	role.Tasks = []*roles.Task{task}
	plays := []runner.Play{{Group: "run", Hosts: hosts, Roles: []*roles.Role{role}}}

	live := startLive(cmd, f.output, f.noProgress, len(hosts), hosts)
	// Every host's outcome is the answer here, so ok tasks print too.
	verbose, _ := cmd.Flags().GetCount("verbose")
	rep, err := report.New(f.output, live.writer(cmd.OutOrStdout()), inv.Redact, max(verbose, 1))
	if err != nil {
		live.close()
		return badInput(fmt.Errorf("--output: %w", err))
	}
	if live != nil {
		rep = &liveReporter{Reporter: rep, l: live}
	}
	eng := runner.New(inv, runner.Options{
		Check: f.check, Diff: f.diff, Forks: f.forks, Extra: extra, LoadBalancer: loadBalancer,
		Connect: f.conn.connector(inv),
		Gather:  gatherFacts,
		Render:  newRenderer(inv, extra),
		Report:  rep,
	})
	recap, err := eng.Run(cmd.Context(), plays)
	live.close()
	if err := runError(inv, err); err != nil {
		return err
	}
	return recapExit(recap)
}

// parseModuleArgs reads -a: a YAML or JSON mapping when it starts with
// "{" or spans lines, else shell-like words of key=value, where true and
// false are booleans and every other value a string (a template).
func parseModuleArgs(s string) (map[string]any, error) {
	out := map[string]any{}
	t := strings.TrimSpace(s)
	if t == "" {
		return out, nil
	}
	if strings.HasPrefix(t, "{") || strings.Contains(t, "\n") {
		if err := yaml.Unmarshal([]byte(t), &out); err != nil {
			return nil, fmt.Errorf("not a YAML/JSON mapping: %w", err)
		}
		return out, nil
	}
	words, err := shell.Split(t)
	if err != nil {
		return nil, err
	}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want key=value", w)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		switch v {
		case "true":
			out[k] = true
		case "false":
			out[k] = false
		default:
			out[k] = v
		}
	}
	return out, nil
}

// checkModuleArgs rejects unknown and missing arguments before anything
// connects, as the role loader does for a role's tasks.
func checkModuleArgs(spec modules.Spec, args map[string]any) error {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(spec.Args, k) {
			msg := fmt.Sprintf("-a: module %s has no argument %q", spec.Name, k)
			if s := suggest.Closest(k, spec.Args); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return errors.New(msg + "; it takes " + strings.Join(spec.Args, ", "))
		}
	}
	for _, r := range spec.Required {
		if _, ok := args[r]; !ok {
			return fmt.Errorf("-a: module %s needs %s", spec.Name, r)
		}
	}
	return nil
}

// dirSource reads a module's src files relative to the working directory,
// where an operator typing `ferry run -m copy -a src=...` expects them.
type dirSource string

func (d dirSource) ReadFile(name string) ([]byte, string, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(string(d), name)
	}
	b, err := os.ReadFile(p)
	return b, p, err
}
