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
// zero Shard), and returns the reporter that marks the recap with the
// shard. A shard left without hosts (more shards than hosts) reports an
// empty recap and returns no plays: it succeeded, and its recap merges.
func sliceShard(cmd *cobra.Command, plays []runner.Play, s runner.Shard, rep runner.Reporter, check bool) ([]runner.Play, runner.Reporter, error) {
	if s.Count == 0 {
		return plays, rep, nil
	}
	rep = shardReporter{rep, s.String()}
	out, err := runner.SliceShard(plays, s)
	if err != nil {
		return nil, nil, badInput(err)
	}
	if len(out) == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "shard %s has no host (fewer hosts, or groups kept whole, than shards): nothing to do\n", s)
		rep.Recap(runner.Recap{Event: "recap", Hosts: map[string]*runner.HostStats{}, Check: check})
	}
	return out, rep, nil
}

// shardReporter marks the recap with the shard it covers.
type shardReporter struct {
	runner.Reporter
	shard string
}

func (r shardReporter) Recap(rc runner.Recap) {
	rc.Shard = r.shard
	r.Reporter.Recap(rc)
}

// checkShardsComplete: when the merged recaps come from shards, they must
// be every shard of one split, each once; a lost shard's hosts would
// otherwise be missing from a recap that looks successful.
func checkShardsComplete(files []string, recaps []runner.Recap) error {
	count := 0
	from := map[int]string{}
	for i, rc := range recaps {
		if rc.Shard == "" {
			if count > 0 || len(from) > 0 {
				return fmt.Errorf("%s: not the recap of a shard (no deploy --shard), unlike %s", files[i], files[0])
			}
			continue
		}
		s, err := runner.ParseShard(rc.Shard)
		if err != nil {
			return fmt.Errorf("%s: %w", files[i], err)
		}
		switch {
		case i > 0 && count == 0:
			return fmt.Errorf("%s: the recap of shard %s, but %s is not a shard's", files[i], s, files[0])
		case count != 0 && s.Count != count:
			return fmt.Errorf("%s: shard %s of a split in %d, but %s is of a split in %d", files[i], s, s.Count, files[0], count)
		case from[s.Index] != "":
			return fmt.Errorf("%s: shard %s again (also in %s)", files[i], s, from[s.Index])
		}
		count, from[s.Index] = s.Count, files[i]
	}
	for i := 1; i <= count; i++ {
		if from[i] == "" {
			return fmt.Errorf("the recap of shard %d/%d is missing: give every shard's output", i, count)
		}
	}
	return nil
}
