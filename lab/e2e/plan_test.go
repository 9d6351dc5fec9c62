//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedPlanOnLab is the saved plan's round trip on real hosts: a plan
// for the web servers, one of them changed by hand after it was made;
// `ferry apply` refuses that host with exit 5, naming host, task and file,
// leaves it untouched and applies the other; then a fresh plan applies
// cleanly and the hosts are converged.
func TestSavedPlanOnLab(t *testing.T) {
	inv := stackInventory()
	converge := func() {
		if r := runFerry(t, "deploy", "-i", inv, "--limit", "web"); r.Code != 0 {
			t.Fatalf("deploy --limit web: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
	}
	converge()
	t.Cleanup(converge)
	timezone := func(h string) string { return mustOnHost(t, h, "cat /etc/timezone") }
	for _, h := range []string{"web-01", "web-02"} {
		mustOnHost(t, h, "echo Drifted/Zone > /etc/timezone")
	}

	plan := filepath.Join(t.TempDir(), "web.plan")
	r := runFerry(t, "deploy", "-i", inv, "--limit", "web", "--check", "--diff", "--out", plan)
	if r.Code != 0 || strings.Count(r.Stdout, "common : time zone name") != 2 {
		t.Fatalf("plan: exit %d, want the time zone name on both web servers\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mustOnHost(t, "web-02", "echo By/Hand > /etc/timezone")

	r = runFerry(t, "apply", plan)
	if r.Code != 5 {
		t.Fatalf("apply after web-02 drifted: exit %d, want 5\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"web-02", "refused", "common : time zone name", "/etc/timezone"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("apply's refusal does not say %q:\n%s", want, r.Stdout)
		}
	}
	if got := timezone("web-01"); got != "Etc/UTC" {
		t.Errorf("web-01 was not applied: /etc/timezone = %q", got)
	}
	if got := timezone("web-02"); got != "By/Hand" {
		t.Errorf("refused web-02 was changed: /etc/timezone = %q", got)
	}

	r = runFerry(t, "deploy", "-i", inv, "--limit", "web", "--check", "--out", plan)
	if r.Code != 0 {
		t.Fatalf("fresh plan: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r = runFerry(t, "apply", plan); r.Code != 0 {
		t.Fatalf("apply of a fresh plan: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := timezone("web-02"); got != "Etc/UTC" {
		t.Errorf("web-02 after the fresh plan: /etc/timezone = %q", got)
	}
	if r = runFerry(t, "deploy", "-i", inv, "--limit", "web", "--check", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("check after apply: exit %d, want 0\n%s", r.Code, r.Stdout)
	}
}
