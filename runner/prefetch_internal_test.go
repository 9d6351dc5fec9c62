package runner

import (
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// TestReadKeyTellsEnvironmentsApart: two commands whose environments differ
// must not share a cached answer, even when one value spells the other's
// variables out.
func TestReadKeyTellsEnvironmentsApart(t *testing.T) {
	run := func(env map[string]string) executor.Read {
		return executor.Read{Kind: executor.ReadRun, Cmd: executor.Command{Script: "env", Env: env}}
	}
	a, _ := keyOf(run(map[string]string{"A": "1\nB=2"}))
	b, _ := keyOf(run(map[string]string{"A": "1", "B": "2"}))
	if a == b {
		t.Errorf("two environments share one read key: %q", a.env)
	}
}
