package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/ferry-deploy/ferry/inventory"
)

// loadInventory loads the inventory named by the persistent -i flag. Any
// problem is bad input (exit 3): nothing may run on a broken inventory.
func loadInventory(cmd *cobra.Command) (*inventory.Inventory, error) {
	path, _ := cmd.Flags().GetString("inventory")
	if path == "" {
		return nil, badInput(errors.New("no inventory: give -i FILE (or inventory: in ferry.yaml)"))
	}
	inv, err := inventory.Load(path)
	if err != nil {
		return nil, badInput(err)
	}
	return inv, nil
}

// selectHosts loads the inventory and the hosts pattern matches: a pattern
// that matches no host is bad input, as the command would do nothing.
func selectHosts(cmd *cobra.Command, pattern string) (*inventory.Inventory, []*inventory.Host, error) {
	inv, err := loadInventory(cmd)
	if err != nil {
		return nil, nil, err
	}
	hosts, err := inv.Select(pattern)
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("pattern %q: %w", pattern, err))
	}
	if len(hosts) == 0 {
		return nil, nil, badInput(fmt.Errorf("%s: no host matches %q", inv.Path, pattern))
	}
	return inv, hosts, nil
}

// checkOutputFormat refuses an --output other than human and json, in the
// words of deploy's (the reporter's) refusal.
func checkOutputFormat(output string) error {
	if output != "human" && output != "json" {
		return badInput(fmt.Errorf("--output: unknown output format %q (want human or json)", output))
	}
	return nil
}

// parseExtraVars reads -e values ("k=v" or "@file.yml").
func parseExtraVars(args []string) (map[string]any, error) {
	return inventory.ParseExtraVars(args)
}

func newInventoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Show what an inventory resolves to: groups, hosts, variables",
		Long: `Load an inventory (ferry's YAML, or Ansible's INI, YAML, JSON or a dynamic
inventory script; with group_vars/, host_vars/, the site file and secrets)
exactly as deploy does, and show the result. Problems are reported with file
and line, and exit with code 3. doc/inventory.md describes the formats.`,
		Example: `  ferry inventory list -i lab/inventory.yml
  ferry inventory vars web-01 -i lab/inventory.yml -e site_name=test.ferry.test
  ferry inventory graph -i hosts.ini`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newInventoryListCmd(), newInventoryVarsCmd(), newInventoryGraphCmd())
	return cmd
}

func newInventoryListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List groups with their roles, hosts and addresses",
		Long: `List every group (sorted by name) with its roles and children, then each of
its hosts, children's included (sorted by name), with its address.

With --output json, print the inventory in the shape of ansible-inventory --list:
groups with their hosts and children, and _meta.hostvars with every host's
variables merged by precedence and its connection as ansible_host,
ansible_port and ansible_user (secrets left out), so that the two can be
compared and other tools can read ferry's inventories.`,
		Example: `  ferry inventory list -i lab/inventory.yml
  ferry inventory list -i hosts.ini --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "human" && output != "json" {
				return badInput(fmt.Errorf("--output %q: want human or json", output))
			}
			inv, err := loadInventory(cmd)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeAnsibleList(cmd.OutOrStdout(), inv)
			}
			return writeList(cmd.OutOrStdout(), inv)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "human", "human, or json in the shape of ansible-inventory --list")
	return cmd
}

func writeAnsibleList(w io.Writer, inv *inventory.Inventory) error {
	data, err := json.MarshalIndent(inv.AnsibleList(), "", "    ")
	if err != nil {
		return fmt.Errorf("inventory as JSON: %w", err)
	}
	_, err = io.WriteString(w, inv.Redact(string(data))+"\n")
	return err
}

func writeList(w io.Writer, inv *inventory.Inventory) error {
	names := make([]string, 0, len(inv.Groups))
	width := 0
	for name := range inv.Groups {
		if name != "all" || len(inv.Groups[name].Roles) > 0 {
			names = append(names, name)
		}
	}
	for _, h := range inv.Hosts {
		width = max(width, len(h.Name))
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		g := inv.Groups[name]
		b.WriteString(name)
		if len(g.Roles) > 0 {
			fmt.Fprintf(&b, "  roles: %s", strings.Join(g.Roles, ", "))
		}
		if children := sorted(g.Children); len(children) > 0 && name != "all" {
			fmt.Fprintf(&b, "  children: %s", strings.Join(children, ", "))
		}
		if !g.Serial.IsZero() {
			fmt.Fprintf(&b, "  serial: %s", g.Serial)
		}
		b.WriteString("\n")
		hosts := inv.HostsOf(name)
		sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
		for _, h := range hosts {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, h.Name, h.Address)
		}
		if len(hosts) == 0 {
			b.WriteString("  (no hosts)\n")
		}
	}
	_, err := io.WriteString(w, inv.Redact(b.String()))
	return err
}

func newInventoryVarsCmd() *cobra.Command {
	var extra []string
	var output string
	cmd := &cobra.Command{
		Use:   "vars HOST",
		Short: "Show the variables one host sees, merged, as YAML (secrets masked)",
		Long: `Show the variables HOST sees, merged by precedence: all < parent group <
child group < host < -e. Role defaults, the lowest level, are not included.
Secret values are shown as ********.`,
		Example: `  ferry inventory vars db-01 -i lab/inventory.yml
  ferry inventory vars web-01 -i hosts.ini -e http_port=8080 -e @extra.yml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, err := loadInventory(cmd)
			if err != nil {
				return err
			}
			ev, err := parseExtraVars(extra)
			if err != nil {
				return badInput(err)
			}
			h := inv.Host(args[0])
			if h == nil {
				return badInput(fmt.Errorf("%s: no host %q", inv.Path, args[0]))
			}
			vars := inv.VarsFor(h, nil, ev)
			for name := range inv.Secrets {
				if _, ok := vars[name]; ok {
					vars[name] = inventory.Mask
				}
			}
			if output != "yaml" {
				return writeVarsJSON(cmd.OutOrStdout(), output, vars, inv.Redact)
			}
			out, err := yaml.Marshal(vars)
			if err != nil {
				return fmt.Errorf("vars of %s: %w", h.Name, err)
			}
			// Masking by name covers the secrets themselves; Redact covers a
			// secret value copied into another variable.
			_, err = io.WriteString(cmd.OutOrStdout(), inv.Redact(string(out)))
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&extra, "extra-vars", "e", nil, "extra variable k=v or @file.yml (highest precedence; repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

func newInventoryGraphCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "graph [GROUP]",
		Short: "Draw the group tree with its hosts, like ansible-inventory --graph",
		Example: `  ferry inventory graph -i lab/inventory.yml
  ferry inventory graph web -i hosts.ini`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, err := loadInventory(cmd)
			if err != nil {
				return err
			}
			root := "all"
			if len(args) == 1 {
				root = args[0]
			}
			if inv.Groups[root] == nil {
				return badInput(fmt.Errorf("%s: no group %q", inv.Path, root))
			}
			if output != "text" {
				return writeGraphJSON(cmd.OutOrStdout(), output, inv, root)
			}
			var b strings.Builder
			writeGraph(&b, inv, root, 0)
			_, err = io.WriteString(cmd.OutOrStdout(), inv.Redact(b.String()))
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// writeGraph draws group, then its child groups and its direct hosts, each
// sorted by name, in ansible-inventory's layout:
//
//	@all:
//	  |--@web:
//	  |  |--web-01
func writeGraph(b *strings.Builder, inv *inventory.Inventory, group string, depth int) {
	if depth == 0 {
		fmt.Fprintf(b, "@%s:\n", group)
	} else {
		fmt.Fprintf(b, "%s--@%s:\n", strings.Repeat("  |", depth), group)
	}
	g := inv.Groups[group]
	for _, c := range sorted(g.Children) {
		writeGraph(b, inv, c, depth+1)
	}
	for _, h := range sorted(g.Hosts) {
		fmt.Fprintf(b, "%s--%s\n", strings.Repeat("  |", depth+1), h)
	}
}

func sorted(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}
