package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-deploy/ferry/runner/hostread"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// pingFlags are the options of `ferry ping`.
type pingFlags struct {
	limit string
	fanoutFlags
}

func newPingCmd() *cobra.Command {
	var f pingFlags
	cmd := &cobra.Command{
		Use:   "ping",
		Short: "Check that every host can be reached over SSH",
		Long: `ping connects to every selected host in parallel, as deploy would (same
user, key, known_hosts, jump hosts), and runs uname and hostname there.
It prints one line per host and exits 2 when any host is unreachable.`,
		Example: `  ferry ping -i lab/inventory.yml
  ferry ping -i hosts.ini --limit web --accept-new-host-keys`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPing(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.limit, "limit", "l", "", "host pattern: names, groups, globs, !exclude, &intersect, comma lists")
	f.fanoutFlags.register(fl, "how many hosts are contacted at once")
	return cmd
}

// pingResult is what one host answered.
type pingResult struct {
	host   string
	uname  string
	remote string // the host's own idea of its name
	err    error
}

func runPing(cmd *cobra.Command, f pingFlags) error {
	if err := checkLimit(cmd, f.limit); err != nil {
		return err
	}
	if err := f.fanoutFlags.check(); err != nil {
		return err
	}
	inv, err := loadInventory(cmd)
	if err != nil {
		return err
	}
	hosts := inv.Hosts
	if f.limit != "" {
		if hosts, err = inv.Select(f.limit); err != nil {
			return badInput(err)
		}
	}
	if len(hosts) == 0 {
		return badInput(fmt.Errorf("%s: no host selected (limit %q)", inv.Path, f.limit))
	}
	results := make([]pingResult, len(hosts))
	var g errgroup.Group
	g.SetLimit(f.forks)
	for i, h := range hosts {
		cfg := f.conn.sshConfig(inv, h)
		g.Go(func() error {
			results[i] = pingHost(cmd.Context(), h.Name, cfg)
			return nil
		})
	}
	_ = g.Wait() // pingHost reports into results, never through the group
	down := printPing(cmd.OutOrStdout(), results, inv.Redact)
	if down > 0 {
		return &exitError{code: exitUnreachable, err: fmt.Errorf("%d of %d hosts unreachable", down, len(results))}
	}
	return nil
}

// pingHost connects and asks for the kernel and host name; the command is
// bounded by the connect timeout too, so a host that accepts but never
// answers cannot stall the whole ping.
func pingHost(ctx context.Context, name string, cfg sshx.Config) pingResult {
	r := pingResult{host: name}
	c, err := sshx.Dial(ctx, cfg)
	if err != nil {
		r.err = err
		return r
	}
	defer c.Close()
	rctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	id, err := hostread.HostIdentity.Read(rctx, c, false)
	if err != nil {
		r.err = err
		return r
	}
	r.uname, r.remote = id.Kernel, id.Hostname
	return r
}

// printPing writes one aligned line per host, in inventory order, and
// returns how many were unreachable: for ping, any failure (a bad jump
// spec, uname failing) means ferry cannot work with the host. Messages pass
// through redact: an error may quote anything, and secrets are masked in
// every output.
func printPing(w io.Writer, results []pingResult, redact func(string) string) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	down := 0
	for _, r := range results {
		if r.err == nil {
			fmt.Fprintf(tw, "%s\tok\t%s\t(%s)\n", r.host, r.uname, r.remote)
			continue
		}
		down++
		fmt.Fprintf(tw, "%s\tunreachable\t%s\t%s\n", r.host, sshx.Reason(r.err), redact(r.err.Error()))
	}
	tw.Flush()
	return down
}
