package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner/modules"
)

// Shell completion: cobra's `ferry completion bash|zsh|fish` scripts call
// back into `ferry __complete`, which lands in the functions below. They
// read the inventory given with -i, FERRY_INVENTORY or ferry.yaml, without
// its secrets (completion must never ask for a key), and fail silent.

const noFiles = cobra.ShellCompDirectiveNoFileComp

// completionInventory loads the topology of the inventory the command line
// names, or nil.
func completionInventory(cmd *cobra.Command) *inventory.Inventory {
	if err := loadConfig(cmd, viper.New()); err != nil {
		return nil
	}
	path, _ := cmd.Flags().GetString("inventory")
	if path == "" {
		return nil
	}
	inv, err := inventory.LoadTopology(path)
	if err != nil {
		return nil
	}
	return inv
}

// patternCandidates completes the last element of a host pattern
// ("web,db-0", "all:!d", "web:&lb"): group and host names, with the part
// already typed kept in front.
func patternCandidates(inv *inventory.Inventory, toComplete string) []string {
	cut := strings.LastIndexAny(toComplete, ",:") + 1
	for cut < len(toComplete) && (toComplete[cut] == '!' || toComplete[cut] == '&') {
		cut++
	}
	prefix, word := toComplete[:cut], toComplete[cut:]
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if !seen[name] && strings.HasPrefix(name, word) {
			seen[name] = true
			out = append(out, prefix+name)
		}
	}
	groups := make([]string, 0, len(inv.Groups))
	for g := range inv.Groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		add(g)
	}
	for _, h := range inv.Hosts {
		add(h.Name)
	}
	return out
}

// completePatternArg completes the PATTERN argument of run and facts.
func completePatternArg(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveDefault // the command's own words
	}
	inv := completionInventory(cmd)
	if inv == nil {
		return nil, noFiles
	}
	return patternCandidates(inv, toComplete), noFiles
}

// completeLimit completes --limit.
func completeLimit(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	inv := completionInventory(cmd)
	if inv == nil {
		return nil, noFiles
	}
	return patternCandidates(inv, toComplete), noFiles
}

// completeTags completes --tags and --skip-tags with the tags of the roles
// the inventory's groups run.
func completeTags(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	inv := completionInventory(cmd)
	if inv == nil {
		return nil, noFiles
	}
	rolesPath, _ := cmd.Flags().GetStringArray("roles-path")
	loader := newRoleLoader(inv.Path, rolesPath)
	prefix, word := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		prefix, word = toComplete[:i+1], toComplete[i+1:]
	}
	seen := map[string]bool{}
	for _, g := range inv.Groups {
		for _, rn := range g.Roles {
			r, err := loader.Load(rn)
			if err != nil {
				continue
			}
			for _, t := range append(roles.Flatten(r.Tasks), r.Handlers...) {
				for _, tag := range t.Tags {
					seen[tag] = true
				}
			}
		}
	}
	var out []string
	for tag := range seen {
		if strings.HasPrefix(tag, word) {
			out = append(out, prefix+tag)
		}
	}
	sort.Strings(out)
	return out, noFiles
}

// completeModules completes -m with ferry's module names.
func completeModules(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, n := range modules.Names() {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, n)
		}
	}
	return out, noFiles
}

// registerOutputCompletion completes --output's two formats.
func registerOutputCompletion(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"human", "json"}, noFiles))
}

// registerDeployCompletion adds deploy's flag completions.
func registerDeployCompletion(cmd *cobra.Command) {
	registerOutputCompletion(cmd)
	_ = cmd.RegisterFlagCompletionFunc("limit", completeLimit)
	_ = cmd.RegisterFlagCompletionFunc("tags", completeTags)
	_ = cmd.RegisterFlagCompletionFunc("skip-tags", completeTags)
}
