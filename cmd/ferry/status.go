package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/health"
	"github.com/ferry-deploy/ferry/roles/support"
)

// statusFlags are the options of `ferry status`.
type statusFlags struct {
	fanoutFlags
	output string
	maxLag time.Duration
}

func newStatusCmd() *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the health of the deployed stack in one table",
		Long: `status asks every host, over one SSH round trip each, for the state of its
key services (nginx, haproxy, keepalived, mariadb, prometheus and the
exporters, those that are installed), HAProxy's backend servers (runtime
API), its addresses (who holds virtual_address), replication (SHOW REPLICA
STATUS on db hosts) and Prometheus' alerts (on the host that runs it).
Exit 0 when all is healthy, 1 when anything is unhealthy (a firing alert, a
DOWN server, a stopped service, broken or lagging replication, the floating
address held by no host or by two), 2 when a host is unreachable.`,
		Example: `  ferry status -i lab/inventory.yml
  ferry status -i lab/inventory.yml --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "human", "output format: human (a table) or json (one object per line, a summary last)")
	fl.DurationVar(&f.maxLag, "max-lag", 5*time.Second, "replication lag above which a replica is unhealthy")
	f.fanoutFlags.register(fl, "how many hosts are asked at once")
	return cmd
}

// runStatus asks the hosts what the built-in roles' health checks want to
// know (package health does the asking, roles/support holds the checks).
func runStatus(cmd *cobra.Command, f statusFlags) error {
	if f.output != "human" && f.output != "json" {
		return badInput(fmt.Errorf("--output %q: want human or json", f.output))
	}
	if err := f.fanoutFlags.check(); err != nil {
		return err
	}
	inv, err := loadInventory(cmd)
	if err != nil {
		return err
	}
	if len(inv.Hosts) == 0 {
		return badInput(fmt.Errorf("%s: no hosts", inv.Path))
	}
	rows := health.Run(cmd.Context(), inv, f.conn.connector(inv), support.HealthChecks(), health.Options{
		MaxLag: f.maxLag, Globals: inv.Vars, Forks: f.forks, Timeout: f.conn.timeout,
	})
	if err := health.Print(cmd.OutOrStdout(), f.output, rows, inv.Redact); err != nil {
		return err
	}
	switch health.Worst(rows) {
	case health.Unreachable:
		return &exitError{code: exitUnreachable, err: fmt.Errorf("status: a host is unreachable")}
	case health.Fail:
		return &exitError{code: exitFailed, err: fmt.Errorf("status: unhealthy")}
	}
	return nil
}
