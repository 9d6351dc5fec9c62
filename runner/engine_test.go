package runner_test

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestConvergeThenNoOp(t *testing.T) {
	l := newLab(t, 3, "site")
	_, first := mustDeploy(t, l, runOpts{})
	if first.Changed == 0 {
		t.Fatal("first deploy changed nothing")
	}
	conf, err := os.ReadFile(filepath.Join(l.roots["h02"], "etc/site/site.conf"))
	if err != nil || !strings.Contains(string(conf), "name h02") || !strings.Contains(string(conf), "peer h03 127.0.0.1") {
		t.Fatalf("site.conf on h02 = %q, %v", conf, err)
	}
	if _, err := os.Stat(filepath.Join(l.roots["h02"], "etc/site/role")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("when: wrote the primary-only file on h02 (err %v)", err)
	}
	_, second := mustDeploy(t, l, runOpts{})
	if second.Changed != 0 {
		t.Fatalf("second deploy changed %d tasks, want 0", second.Changed)
	}
	for name, st := range second.Hosts {
		// One round trip for facts, then at most one per task on a no-op.
		if st.RoundTrips > st.Tasks+1 {
			t.Errorf("%s: %d round trips for %d tasks on a no-op run", name, st.RoundTrips, st.Tasks)
		}
	}
	reloads, _ := os.ReadFile(filepath.Join(l.roots["h01"], "var/reloads"))
	if n := strings.Count(string(reloads), "reload"); n != 1 {
		t.Errorf("handler ran %d times over a converge and a no-op, want 1", n)
	}
}

func TestCheckChangesNothing(t *testing.T) {
	l := newLab(t, 2, "site")
	rec, rc := mustDeploy(t, l, runOpts{check: true, diff: true})
	if rc.Changed == 0 || len(rec.changed()) == 0 {
		t.Fatal("check on fresh hosts planned no change")
	}
	for name, root := range l.roots {
		entries, _ := os.ReadDir(root)
		if len(entries) != 0 {
			t.Errorf("%s: check mode created %v", name, entries)
		}
	}
}

// drifts are hand edits an operator might make on a converged host.
var drifts = []struct {
	name string
	do   func(root string) error
}{
	{"edit config", func(r string) error {
		return os.WriteFile(filepath.Join(r, "etc/site/site.conf"), []byte("listen 1\n"), 0o644)
	}},
	{"chmod config", func(r string) error { return os.Chmod(filepath.Join(r, "etc/site/site.conf"), 0o600) }},
	{"delete secret", func(r string) error { return os.Remove(filepath.Join(r, "etc/site/secret.conf")) }},
	{"change limit", func(r string) error {
		return os.WriteFile(filepath.Join(r, "etc/site/limits"), []byte("# local\nnofile=1024\n"), 0o644)
	}},
	{"relink", func(r string) error {
		p := filepath.Join(r, "etc/site/current")
		os.Remove(p)
		return os.Symlink("/etc/hostname", p)
	}},
	{"remove cache dir", func(r string) error { return os.RemoveAll(filepath.Join(r, "var/cache")) }},
	{"forget init", func(r string) error { return os.Remove(filepath.Join(r, "var/initialised")) }},
	{"chmod logs", func(r string) error { return os.Chmod(filepath.Join(r, "var/logs"), 0o777) }},
}

// TestCheckEqualsApply drifts random hosts in random ways, then requires
// that --check reports exactly the tasks the next real run changes, and
// that the run after that changes nothing.
func TestCheckEqualsApply(t *testing.T) {
	l := newLab(t, 3, "site")
	mustDeploy(t, l, runOpts{})
	rng := rand.New(rand.NewPCG(7, 11))
	hosts := []string{"h01", "h02", "h03"}
	for round := range 12 {
		var applied []string
		for range 1 + rng.IntN(3) {
			h := hosts[rng.IntN(len(hosts))]
			d := drifts[rng.IntN(len(drifts))]
			if err := d.do(l.roots[h]); err != nil {
				t.Fatalf("round %d: drift %s on %s: %v", round, d.name, h, err)
			}
			applied = append(applied, h+":"+d.name)
		}
		check, _ := mustDeploy(t, l, runOpts{check: true})
		real, _ := mustDeploy(t, l, runOpts{})
		if !slices.Equal(check.changed(), real.changed()) {
			t.Fatalf("round %d (%v): check planned\n  %v\nbut the run changed\n  %v", round, applied, check.changed(), real.changed())
		}
		if len(real.changed()) == 0 {
			t.Fatalf("round %d (%v): drift went unnoticed", round, applied)
		}
		if _, after := mustDeploy(t, l, runOpts{}); after.Changed != 0 {
			t.Fatalf("round %d (%v): run after repair changed %d", round, applied, after.Changed)
		}
	}
}

func TestBadInputStopsBeforeAnyChange(t *testing.T) {
	l := newLab(t, 2, "broken")
	_, _, err := l.deploy(runOpts{})
	var bad *runner.BadInputError
	if !errors.As(err, &bad) {
		t.Fatalf("deploy error = %v, want a BadInputError", err)
	}
	if !strings.Contains(err.Error(), "broken.tmpl") || !strings.Contains(err.Error(), "site_prot") {
		t.Errorf("error %q does not name the template and the key", err)
	}
	for name, root := range l.roots {
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Errorf("%s: files written despite bad input: %v", name, entries)
		}
	}
}

// TestSecretInCommandArgumentRefused: a secret in the words of a `command`
// task would show in the host's process list while the program runs; it is
// bad input, named without the secret, and nothing runs.
func TestSecretInCommandArgumentRefused(t *testing.T) {
	l := newLab(t, 1, "argsecret")
	rec, _, err := l.deploy(runOpts{})
	var bad *runner.BadInputError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "process list") {
		t.Fatalf("err %v, want bad input about the process list", err)
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("the error shows the secret: %v", err)
	}
	if l.exists("h01", "ran") || len(rec.changed()) > 0 {
		t.Error("the command ran")
	}
}

// TestDiffGolden pins the human output of a check with --diff after a
// known drift, and proves the canary secret stays out of every output.
func TestDiffGolden(t *testing.T) {
	l := newLab(t, 2, "site")
	mustDeploy(t, l, runOpts{})
	os.WriteFile(filepath.Join(l.roots["h01"], "etc/site/site.conf"), []byte("# managed by ferry\nlisten 80\n"), 0o644)
	os.Remove(filepath.Join(l.roots["h02"], "etc/site/secret.conf"))
	var human, js bytes.Buffer
	hr, _ := report.New("human", &human, l.inv.Redact, 0)
	jr, _ := report.New("json", &js, l.inv.Redact, 0)
	mustDeploy(t, l, runOpts{check: true, diff: true, rep: multi{hr, jr}, forks: 1})
	for name, out := range map[string]string{"human": human.String(), "json": js.String()} {
		if strings.Contains(out, canary) {
			t.Errorf("%s output contains the secret", name)
		}
	}
	got := normalise(human.String(), l)
	golden := filepath.Join("testdata", "check-diff.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("check --diff output differs from %s (run with -update):\n%s", golden, got)
	}
}

// normalise replaces what differs between runs (temp folders, ports,
// durations) so output can be compared; hosts run one at a time (forks 1)
// so their order is fixed.
func normalise(out string, l *lab) string {
	for name, root := range l.roots {
		out = strings.ReplaceAll(out, root, "/ROOT/"+name)
	}
	out = regexp.MustCompile(`in [0-9.]+s`).ReplaceAllString(out, "in N s")
	out = regexp.MustCompile(`round_trips=\d+`).ReplaceAllString(out, "round_trips=N")
	return out
}
