package sshx_test

import (
	"context"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

func TestFiftyHostsInParallel(t *testing.T) {
	const hosts, steps = 50, 4
	fixtures := newFixtures(t, hosts)
	concurrently(hosts, func(i int) {
		// Fifty handshakes at once under -race on two shared cores can
		// take longer than the usual 10 s; what is tested is that each
		// host gets one connection and its own answers, not how fast.
		cfg := fixtures[i].config()
		cfg.ConnectTimeout = 2 * time.Minute
		c, err := sshx.Dial(context.Background(), cfg)
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
