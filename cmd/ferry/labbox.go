package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-deploy/ferry/lab"
)

func newLabBoxCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "box",
		Short: "Build (or find cached) the local Debian 12 Vagrant box for libvirt",
		Long: `box builds a Debian 12 Vagrant box for the libvirt provider from the lab's
cached base system and Debian packages, for machines that cannot download the
public debian/bookworm64 box. Boxes are cached in ` + lab.DefaultBoxDir + ` by recipe:
a second run with the same inputs reuses the file. Prints the box's path.
` + "`ferry lab up --provider vagrant`" + ` builds it when needed. Needs root.`,
		Example: "  sudo ferry lab box",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			box, err := lab.EnsureBox(cmd.Context(), lab.BoxSpec{Log: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), box.Path)
			return nil
		},
	}
}
