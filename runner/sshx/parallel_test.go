package sshx_test

import (
	"context"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

func TestFiftyHostsInParallel(t *testing.T) {
	const hosts, steps = 50, 4
	fixtures := newFixtures(t, hosts)
	concurrently(hosts, func(i int) {
		c, err := sshxDial(fixtures[i])
		if err != nil {
			t.Errorf("host %d: %v", i, err)
			return
		}
		defer c.Close()
		concurrently(steps, func(s int) {
			res, err := c.Run(context.Background(), executor.Command{Script: `echo "$H-$S"`,
				Env: map[string]string{"H": itoa(i), "S": itoa(s)}})
			if want := itoa(i) + "-" + itoa(s) + "\n"; err != nil || string(res.Stdout) != want {
				t.Errorf("host %d step %d: %q, %v", i, s, res.Stdout, err)
			}
		})
	})
	for i, f := range fixtures {
		if n := f.srv.Connections(); n != 1 {
			t.Errorf("host %d: %d connections, want 1", i, n)
		}
	}
}
