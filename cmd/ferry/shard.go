package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/runner"
)

// parseShardFlag checks --shard before anything is read or connected; the
// zero Shard means no sharding.
func parseShardFlag(f deployFlags) (runner.Shard, error) {
	if f.shard == "" {
		return runner.Shard{}, nil
	}
	s, err := runner.ParseShard(f.shard)
	if err != nil {
		return runner.Shard{}, badInput(err)
	}
	if f.out != "" {
		// ferry apply re-selects the hosts of the plan's --limit: a plan
		// of one shard would be applied to every shard's hosts.
		return runner.Shard{}, badInput(errors.New("--shard with --out: a saved plan covers the whole selection; save it without --shard"))
	}
	return s, nil
}

// sliceShard keeps the plays' hosts of shard s (all of them when s is the
// zero Shard). A shard left without hosts (more shards than hosts) reports
// an empty recap and returns no plays: it succeeded, and its recap merges.
func sliceShard(cmd *cobra.Command, plays []runner.Play, s runner.Shard, rep runner.Reporter, check bool) ([]runner.Play, error) {
	if s.Count == 0 {
		return plays, nil
	}
	out, err := runner.SliceShard(plays, s)
	if err != nil {
		return nil, badInput(err)
	}
	if len(out) == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "shard %s has no host (fewer hosts, or groups kept whole, than shards): nothing to do\n", s)
		rep.Recap(runner.Recap{Event: "recap", Hosts: map[string]*runner.HostStats{}, Check: check})
	}
	return out, nil
}
