package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
)

// checkLimit refuses a --limit that was given but is empty: selecting every
// host is what leaving the flag out means, and an empty pattern (a shell
// variable that expanded to nothing) must not silently mean the same.
func checkLimit(cmd *cobra.Command, limit string) error {
	if cmd.Flags().Changed("limit") && strings.TrimSpace(limit) == "" {
		return badInput(errors.New("--limit: empty host pattern (leave --limit out to select every host)"))
	}
	return nil
}
