package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/report"
)

// deployFlags are the options of `ferry deploy`; each maps 1:1 to a flag.
type deployFlags struct {
	fanoutFlags
	check, diff, detailedExitcode bool
	limit                         string
	out                           string // --out: save the check run's plan here
	extra                         []string
	output                        string
	tags, skipTags                []string
	rolesPath                     []string
	ops                           deployOps // listing, --start-at-task, progress
	lockTimeout                   time.Duration
	shard                         string // --shard I/N (shard.go)
}

func newDeployCmd() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy the inventory's roles to its hosts",
		Long: `deploy connects to every host once, reads its facts, and runs the roles of
its groups in the inventory's group order. Every task reads the current state,
compares it with what the role asks for, and changes only what differs.
With --check nothing is changed and the plan is exactly what the next real
run would change.`,
		Example: `  ferry deploy -i lab/inventory.yml
  ferry deploy -i lab/inventory.yml --check --diff --limit web
  ferry deploy -i hosts.ini -e nginx_port=8080 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDeploy(cmd, f) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.check, "check", false, "plan only: change nothing and report what would change")
	fl.BoolVar(&f.diff, "diff", false, "show a unified diff for every file that changes (or would)")
	fl.BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "with --check: exit 4 when changes are pending or unknown, 0 when none")
	fl.StringVar(&f.out, "out", "", "with --check: save the plan to this file, for `ferry apply` to apply exactly")
	fl.StringVarP(&f.limit, "limit", "l", "", "host pattern: names, groups, globs, !exclude, &intersect, comma lists")
	fl.StringArrayVarP(&f.extra, "extra-vars", "e", nil, "extra variable k=v or @file.yml (highest precedence; repeatable)")
	fl.StringVarP(&f.output, "output", "o", "human", "output format: human or json (one object per line)")
	fl.DurationVar(&f.lockTimeout, "lock-timeout", 0, "wait this long for a host another deploy is changing (default: fail at once, naming it)")
	fl.StringSliceVar(&f.tags, "tags", nil, "run only tasks with one of these tags")
	fl.StringSliceVar(&f.skipTags, "skip-tags", nil, "skip tasks with one of these tags")
	fl.StringArrayVar(&f.rolesPath, "roles-path", nil, "folder of user roles, searched before built-ins (repeatable)")
	fl.StringVar(&f.shard, "shard", "", "run only the I-th of N balanced slices of the selected hosts (I/N; see `ferry recap merge`)")
	f.fanoutFlags.register(fl, "how many hosts work at once")
	f.ops.register(cmd)
	return cmd
}

func runDeploy(cmd *cobra.Command, f deployFlags) error {
	if f.detailedExitcode && !f.check {
		return badInput(errors.New("--detailed-exitcode needs --check"))
	}
	if f.out != "" && !f.check {
		return badInput(errors.New("--out needs --check"))
	}
	if err := checkLimit(cmd, f.limit); err != nil {
		return err
	}
	if f.lockTimeout < 0 {
		return badInput(fmt.Errorf("--lock-timeout %s: must be positive", f.lockTimeout))
	}
	if err := f.fanoutFlags.check(); err != nil {
		return err
	}
	shard, err := parseShardFlag(f)
	if err != nil {
		return err
	}
	inv, err := loadInventory(cmd)
	if err != nil {
		return err
	}
	extra, err := parseExtraVars(f.extra)
	if err != nil {
		return badInput(err)
	}
	verbose, _ := cmd.Flags().GetCount("verbose")
	rep, err := report.New(f.output, f.ops.out(cmd), inv.Redact, verbose)
	if err != nil {
		return badInput(fmt.Errorf("--output: %w", err))
	}
	plays, err := runner.BuildPlays(inv, newRoleLoader(inv.Path, f.rolesPath), f.limit)
	if err != nil {
		return badInput(err)
	}
	if len(plays) == 0 {
		return badInput(fmt.Errorf("%s: no host selected has a role to run (limit %q)", inv.Path, f.limit))
	}
	if plays, rep, err = sliceShard(cmd, plays, shard, rep, f.check); err != nil || len(plays) == 0 {
		return err
	}
	if done, err := f.ops.before(cmd, plays, f.tags, f.skipTags); done || err != nil {
		return err
	}
	rep, closeLive := f.ops.live(cmd, rep, f.output, plays)
	defer closeLive()
	opts := runner.Options{
		Check: f.check, Diff: f.diff, Forks: f.forks, Extra: extra,
		Tags: f.tags, SkipTags: f.skipTags, LockTimeout: f.lockTimeout,
		Connect: f.conn.connector(inv),
		Gather:  gatherFacts,
		Render:  newRenderer(inv, extra),
		Report:  rep,
		StartAt: f.ops.startAt,
	}
	opts.LoadBalancer = loadBalancer
	steps := newStepLog()
	if f.out != "" {
		opts.Steps = steps.add
	}
	recap, err := runner.New(inv, opts).Run(cmd.Context(), plays)
	if err := runError(inv, err); err != nil {
		return err
	}
	if f.out != "" {
		if recap.Unreachable > 0 || recap.Failed > 0 || recap.Interrupted {
			fmt.Fprintf(cmd.ErrOrStderr(), "plan not written to %s: the check run did not complete on every host\n", f.out)
		} else if err := writePlan(f.out, f, inv, plays, extra, steps); err != nil {
			return err
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "plan saved to %s: apply it with `ferry apply %s`\n", f.out, f.out)
		}
	}
	return deployExit(recap, f.check && f.detailedExitcode)
}
