package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/report"
	"github.com/ferry-deploy/ferry/runner/savedplan"
)

// applyFlags are the options of `ferry apply`.
type applyFlags struct {
	maxAge time.Duration
	extra  []string
	output string
	diff   bool
	fanoutFlags
}

func newApplyCmd() *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply PLAN",
		Short: "Apply a plan saved by deploy --check --out, exactly as it was reviewed",
		Long: `apply applies a plan saved by ` + "`ferry deploy --check --out PLAN`" + `. Each host is
planned again first and compared with the saved plan: what every task read
(as hashes) and the change it planned, and the inputs that made the plan (the
host's variables, its roles, the -e variables, ferry's version). A host whose
state or inputs differ is refused, with the task and what differs, and nothing
is changed on it; the other hosts are applied, each task checked against the
plan again just before it changes anything. A refused host makes apply exit 5.
A plan older than --max-age is refused as a whole.`,
		Example: `  ferry deploy -i lab/inventory.yml --check --diff --out site.plan
  ferry apply site.plan
  ferry apply site.plan -e release=42 --max-age 2h`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runApply(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.maxAge, "max-age", 24*time.Hour, "refuse a plan older than this (0: any age)")
	fl.StringArrayVarP(&f.extra, "extra-vars", "e", nil, "the -e variables the plan was made with (they are not stored in it)")
	fl.StringVarP(&f.output, "output", "o", "human", "output format: human or json (one object per line)")
	fl.BoolVar(&f.diff, "diff", false, "show a unified diff for every file that changes")
	f.fanoutFlags.register(fl, "how many hosts work at once")
	return cmd
}

func runApply(cmd *cobra.Command, f applyFlags, path string) error {
	if err := f.fanoutFlags.check(); err != nil {
		return err
	}
	p, err := savedplan.Read(path, version, f.maxAge, time.Now())
	if savedplan.IsStale(err) {
		return planStale(err)
	}
	if err != nil {
		return badInput(err)
	}
	if given, _ := cmd.Flags().GetString("inventory"); given != "" && cmd.Flags().Changed("inventory") {
		if abs, err := filepath.Abs(given); err != nil || abs != p.Inventory {
			return badInput(fmt.Errorf("-i %s: the plan %s was made for %s", given, path, p.Inventory))
		}
	}
	inv, err := inventory.Load(p.Inventory)
	if err != nil {
		return badInput(err)
	}
	extra, err := parseExtraVars(f.extra)
	if err != nil {
		return badInput(err)
	}
	if b, err := json.Marshal(extra); err != nil || p.Hash(b) != p.Extra {
		return planStale(fmt.Errorf("%s: the -e variables differ from the ones the plan was made with; nothing was changed", path))
	}
	verbose, _ := cmd.Flags().GetCount("verbose")
	rep, err := report.New(f.output, cmd.OutOrStdout(), inv.Redact, verbose)
	if err != nil {
		return badInput(fmt.Errorf("--output: %w", err))
	}
	plays, err := runner.BuildPlays(inv, newRoleLoader(inv.Path, p.RolesPath), p.Limit)
	if err != nil {
		return badInput(err)
	}
	refused := map[string]string{}
	hosts := playHosts(plays)
	for name := range p.Hosts {
		if !slices.Contains(hosts, name) {
			refused[name] = "in the plan, but the inventory no longer selects it"
		}
	}
	for _, name := range hosts {
		hp := p.Hosts[name]
		if hp == nil {
			refused[name] = "not in the plan"
			continue
		}
		in, err := planInputs(p, inv, plays, inv.Host(name), extra)
		if err != nil {
			return badInput(err)
		}
		if in != hp.Inputs {
			refused[name] = "its variables or roles changed since the plan was made"
		}
	}
	base := runner.Options{
		Forks: f.forks, Extra: extra, Tags: p.Tags, SkipTags: p.SkipTags,
		Connect: f.conn.connector(inv), Gather: gatherFacts, Render: newRenderer(inv, extra),
		LoadBalancer: loadBalancer,
	}

	// Plan again, quietly, and compare step by step: a host that differs
	// is refused before anything changes on it.
	if again := keepHosts(plays, hosts, refused); len(again) > 0 {
		steps := newStepLog()
		opts := base
		opts.Check, opts.Report = true, silent{}
		opts.Steps = func(host string, s runner.Step) { steps.add(host, keyStep(p, maskStep(inv, s))) }
		rc, err := runner.New(inv, opts).Run(cmd.Context(), again)
		if err := runError(inv, err); err != nil {
			return err
		}
		for _, name := range playHosts(again) {
			switch st := rc.Hosts[name]; {
			case st == nil || st.Unreachable || st.Failed > 0:
				refused[name] = "could not be planned again (unreachable or a task failed)"
			default:
				if d := savedplan.Diff(p.Hosts[name].Steps, steps.hosts[name]); d != "" {
					refused[name] = inv.Redact(d)
				}
			}
		}
	}
	names := make([]string, 0, len(refused))
	for n := range refused {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rep.Event(runner.Event{Kind: "host", Host: n, Status: runner.StatusRefused,
			Message: "host " + n + " refused: " + refused[n] + "; nothing was changed on it"})
	}
	apply := keepHosts(plays, hosts, refused)
	if len(apply) == 0 {
		return planStale(fmt.Errorf("%s: no host matches the plan any more; plan again", path))
	}
	opts := base
	opts.Diff, opts.Report = f.diff, rep
	opts.Expect = func(host string, s runner.Step) error {
		s = keyStep(p, maskStep(inv, s))
		if why := savedplan.Expect(p.Hosts[host].Steps, s); why != "" {
			return &runner.PlanDriftError{Host: host, Step: s.Name(), What: why}
		}
		return nil
	}
	recap, err := runner.New(inv, opts).Run(cmd.Context(), apply)
	if err := runError(inv, err); err != nil {
		return err
	}
	if err := recapExit(recap); err != nil {
		return err
	}
	if recap.Refused > 0 || len(refused) > 0 {
		return planStale(fmt.Errorf("%d host(s) refused: they no longer match the plan", recap.Refused+len(refused)))
	}
	return nil
}

// playHosts lists the hosts of plays, each once, in play order.
func playHosts(plays []runner.Play) []string {
	var out []string
	for _, p := range plays {
		for _, h := range p.Hosts {
			if !slices.Contains(out, h.Name) {
				out = append(out, h.Name)
			}
		}
	}
	return out
}

// keepHosts returns plays with only the hosts of names not refused.
func keepHosts(plays []runner.Play, names []string, refused map[string]string) []runner.Play {
	var out []runner.Play
	for _, p := range plays {
		q := p
		q.Hosts = nil
		for _, h := range p.Hosts {
			if _, no := refused[h.Name]; !no && slices.Contains(names, h.Name) {
				q.Hosts = append(q.Hosts, h)
			}
		}
		if len(q.Hosts) > 0 {
			out = append(out, q)
		}
	}
	return out
}

// silent is the reporter of apply's second planning: its result is the
// comparison, not output.
type silent struct{}

func (silent) Event(runner.Event) {}
func (silent) Recap(runner.Recap) {}
