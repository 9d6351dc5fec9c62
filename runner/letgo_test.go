package runner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
)

// TestSettledHostIsLetGo: a host whose plan is empty gives its run lock
// back while the other hosts still run, instead of holding it (and its
// connection) until the run ends: another run may deploy it meanwhile.
// In the second run h02 has a change, and its probe waits, up to 5 s, for
// h01's holder file to go.
func TestSettledHostIsLetGo(t *testing.T) {
	l := newLab(t, 2, "site")
	h01 := l.roots["h01"]
	l.writeRole("site", fmt.Sprintf(`tasks:
  - name: config
    copy: {content: "x\n", dest: "{{ .root }}/config"}
    register: cfg
  - name: h01 let go
    shell: {cmd: "i=0; while [ -e %s/.ferry/run.holder ]; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done"}
    when: and .probe .cfg.changed
`, h01))
	if _, rc, err := l.deploy(runOpts{extra: map[string]any{"probe": false}}); err != nil || rc.Failed != 0 {
		t.Fatalf("first deploy: %v %+v", err, rc)
	}
	if err := os.Remove(filepath.Join(l.roots["h02"], "config")); err != nil {
		t.Fatal(err)
	}
	rec, rc, err := l.deploy(runOpts{extra: map[string]any{"probe": true}})
	if err != nil || rc.Failed != 0 || rc.Changed != 2 {
		t.Fatalf("h02 changes, h01 settled: %v %+v\n%s", err, rc, strings.Join(rec.changed(), "\n"))
	}
	for _, ev := range rec.events {
		if ev.Host == "h01" && ev.Kind == "task" && ev.Status != runner.StatusOK && ev.Status != runner.StatusSkipped {
			t.Errorf("h01 %s: %s", ev.Task, ev.Status)
		}
	}
	if _, err := os.Stat(filepath.Join(h01, ".ferry", "deployed")); err != nil {
		t.Errorf("h01 let go without its deployed mark: %v", err)
	}
}
