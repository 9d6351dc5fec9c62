package sshx_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

func TestFiftyHostsInParallel(t *testing.T) {
	const hosts, steps = 50, 4
	fixtures := make([]*fixture, hosts)
	for i := range fixtures {
		fixtures[i] = newFixture(t)
	}
	var wg sync.WaitGroup
	for i, f := range fixtures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := sshxDial(f)
			if err != nil {
				t.Errorf("host %d: %v", i, err)
				return
			}
			defer c.Close()
			var steps_ sync.WaitGroup
			for s := range steps {
				steps_.Add(1)
				go func() {
					defer steps_.Done()
					res, err := c.Run(context.Background(), executor.Command{Script: `echo "$H-$S"`,
						Env: map[string]string{"H": itoa(i), "S": itoa(s)}})
					if want := itoa(i) + "-" + itoa(s) + "\n"; err != nil || string(res.Stdout) != want {
						t.Errorf("host %d step %d: %q, %v", i, s, res.Stdout, err)
					}
				}()
			}
			steps_.Wait()
		}()
	}
	wg.Wait()
	for i, f := range fixtures {
		if n := f.srv.Connections(); n != 1 {
			t.Errorf("host %d: %d connections, want 1", i, n)
		}
	}
}
