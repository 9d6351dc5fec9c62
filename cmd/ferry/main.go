// Command ferry is an agentless configuration deployer: an inventory of hosts
// and roles drives an SSH runner that pushes templated configuration and
// verifies every step. This package only wires flags to the library packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	os.Exit(exitCode(err))
}

// subcommands builds ferry's commands, one file each (help lists them
// sorted by name, whatever the order here).
var subcommands = []func() *cobra.Command{
	newApplyCmd, newDeployCmd, newFactsCmd, newInventoryCmd, newLabCmd,
	newPingCmd, newRecapCmd, newRunCmd, newStatusCmd, newVersionCmd,
}

func newRootCmd() *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:   "ferry",
		Short: "Agentless configuration deployer: fast, exact and safe",
		Long: `ferry pushes templated configuration to servers over SSH and verifies
every step, idempotently. An inventory names the hosts, their groups and the
roles each group runs; --check shows exactly what a deploy would change.`,
		Example:       "  ferry deploy -i lab/inventory.yml --check --diff",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadConfig(cmd, v)
		},
	}
	root.PersistentFlags().String("config", "", "config file (default ./ferry.yaml)")
	root.PersistentFlags().StringP("inventory", "i", "", "inventory file (YAML or Ansible INI)")
	root.PersistentFlags().CountP("verbose", "v", "more output (repeat for more)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	for _, mk := range subcommands {
		root.AddCommand(mk())
	}
	return root
}

// loadConfig applies ferry's precedence: flags > FERRY_* environment >
// ferry.yaml > defaults. Values from the lower layers are written back into
// flags that the user did not set, so commands read flags only.
func loadConfig(cmd *cobra.Command, v *viper.Viper) error {
	v.SetEnvPrefix("FERRY")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if path, _ := cmd.Flags().GetString("config"); path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return badInput(fmt.Errorf("config %s: %w", path, err))
		}
	} else if path := defaultConfigFile(); path != "" {
		// Only ferry.yaml/ferry.yml count: viper's own search would also take
		// a file named plain "ferry" — the binary itself, when run from the
		// folder it was built in.
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return badInput(fmt.Errorf("config %s: %w", path, err))
		}
	}
	var firstErr error
	apply := func(f *pflagFlag) {
		if f.Changed || firstErr != nil {
			return
		}
		if !v.IsSet(f.Name) {
			return
		}
		val := v.GetString(f.Name)
		if f.Value.Type() == "stringArray" || f.Value.Type() == "stringSlice" {
			for _, item := range v.GetStringSlice(f.Name) {
				if err := f.Value.Set(item); err != nil {
					firstErr = badInput(fmt.Errorf("config %s: %w", f.Name, err))
				}
			}
			return
		}
		if err := f.Value.Set(val); err != nil {
			firstErr = badInput(fmt.Errorf("config %s=%q: %w", f.Name, val, err))
		}
	}
	cmd.Flags().VisitAll(apply)
	return firstErr
}

// defaultConfigFile returns ./ferry.yaml or ./ferry.yml when one exists.
func defaultConfigFile() string {
	for _, name := range []string{"ferry.yaml", "ferry.yml"} {
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
			return name
		}
	}
	return ""
}
