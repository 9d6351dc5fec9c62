package savedplan

import (
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/runner"
)

func step(task, item string, st runner.Status, change string, reads ...runner.Read) runner.Step {
	return runner.Step{Kind: "task", Role: "r", Task: task, Item: item, Status: st, Change: change, Reads: reads}
}

func TestDiff(t *testing.T) {
	a := runner.Read{What: "stat /a", SHA256: "1"}
	saved := []runner.Step{step("t1", "", runner.StatusChanged, "c1", a), step("t2", "", runner.StatusOK, "c2")}
	for _, tc := range []struct {
		name string
		now  []runner.Step
		want string
	}{
		{"same", saved, ""},
		{"read differs", []runner.Step{step("t1", "", runner.StatusChanged, "c9", runner.Read{What: "stat /a", SHA256: "2"}), saved[1]}, "r : t1: stat /a differs"},
		{"status differs", []runner.Step{saved[0], step("t2", "", runner.StatusChanged, "c2")}, "r : t2: the plan says ok, the host now changed"},
		{"change differs", []runner.Step{saved[0], step("t2", "", runner.StatusOK, "c3")}, "r : t2: the planned change differs"},
		{"step gone", saved[:1], "r : t2: planned ok, not planned any more"},
		{"step added", append(saved[:2:2], step("t3", "x", runner.StatusChanged, "")), "r : t3 (x): now changed, not in the plan"},
	} {
		if got := Diff(saved, tc.now); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%s: Diff = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestExpectUnknownGoesEitherWay(t *testing.T) {
	saved := []runner.Step{step("t1", "", runner.StatusUnknown, ""), step("t2", "", runner.StatusChanged, "c")}
	if why := Expect(saved, step("t1", "a", runner.StatusChanged, "x")); why != "" {
		t.Errorf("item of an unknown task refused: %s", why)
	}
	if why := Expect(saved, step("t2", "", runner.StatusChanged, "other")); why == "" {
		t.Error("another change than planned was accepted")
	}
	if why := Expect(saved, step("t3", "", runner.StatusOK, "")); why == "" {
		t.Error("a step not in the plan was accepted")
	}
}

func TestReadRefusesOldAndForeignPlans(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p, err := New("1.2.3", now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	path := dir + "/p"
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path, "1.2.3", 3*time.Hour, now); err != nil {
		t.Fatalf("fresh plan: %v", err)
	}
	if _, err := Read(path, "1.2.3", time.Hour, now); !IsStale(err) {
		t.Errorf("2 h old plan with max age 1 h: %v", err)
	}
	if _, err := Read(path, "1.2.4", 0, now); !IsStale(err) || !strings.Contains(err.Error(), "1.2.3") {
		t.Errorf("plan of another version: %v", err)
	}
	if p.Hash([]byte("ab"), []byte("c")) == p.Hash([]byte("a"), []byte("bc")) {
		t.Error("hash parts are not delimited")
	}
}
