package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/report"
)

func newRecapCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recap",
		Short: "Work with the JSON recaps of deploys",
		Args:  cobra.NoArgs,
	}
	var output string
	var detailed bool
	merge := &cobra.Command{
		Use:   "merge FILE...",
		Short: "Merge the JSON recaps of a deploy's shards into one recap and exit code",
		Long: `merge reads the output of shards of one deploy (` + "`ferry deploy --shard I/N --output json`" + `,
the whole output or its last line), prints the recap one deploy of every host
would have printed, and exits as that deploy would have: 0 success, 1 a task
failed (or a shard was interrupted), 2 a host was unreachable, 4 changes
pending with --check runs and --detailed-exitcode. Recaps that cannot be
shards of one deploy (a host in two of them, check and real runs mixed) are
bad input (3).`,
		Example: `  ferry recap merge shard-1.json shard-2.json shard-3.json
  ferry recap merge --output json --detailed-exitcode results/*.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return badInput(errors.New("recap merge: give the recap files of the shards"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := report.New(output, cmd.OutOrStdout(), nil, 0)
			if err != nil {
				return badInput(fmt.Errorf("--output: %w", err))
			}
			merged, err := mergeRecapFiles(args)
			if err != nil {
				return badInput(err)
			}
			if detailed && !merged.Check {
				return badInput(errors.New("--detailed-exitcode needs the recaps of --check runs"))
			}
			rep.Recap(merged)
			return deployExit(merged, detailed)
		},
	}
	merge.Flags().StringVarP(&output, "output", "o", "human", "output format: human or json (the recap line)")
	merge.Flags().BoolVar(&detailed, "detailed-exitcode", false, "for --check recaps: exit 4 when changes are pending or unknown, 0 when none")
	cmd.AddCommand(merge)
	return cmd
}

// mergeRecapFiles reads and merges the recaps of files, naming the file
// that does not fit.
func mergeRecapFiles(files []string) (runner.Recap, error) {
	var recaps []runner.Recap
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return runner.Recap{}, err
		}
		rc, err := report.ReadRecap(f, name)
		f.Close()
		if err != nil {
			return runner.Recap{}, err
		}
		recaps = append(recaps, rc)
	}
	if err := checkShardsComplete(files, recaps); err != nil {
		return runner.Recap{}, err
	}
	var merged runner.Recap
	for i, rc := range recaps {
		if err := merged.Merge(rc); err != nil {
			return runner.Recap{}, fmt.Errorf("%s: %w", files[i], err)
		}
	}
	return merged, nil
}
