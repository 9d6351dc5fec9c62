//go:build e2e

package e2e

// Issue 15: `ferry run`, ad hoc work on real lab hosts, through the lab
// inventory's own connection settings (key, known_hosts, secrets).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/lab/labtest"
	"go.yaml.in/yaml/v3"
)

func TestRunHostnamePerHost(t *testing.T) {
	r := runFerry(t, "run", "web", "-i", labInventory(), "--", "hostname")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, h := range []string{"web-01", "web-02"} {
		if want := "---- " + h + ": exit 0\n" + h + "\n"; !strings.Contains(r.Stdout, want) {
			t.Errorf("no block %q in:\n%s", want, r.Stdout)
		}
	}
	if !strings.HasSuffix(r.Stdout, "2 ok, 0 failed, 0 unreachable\n") {
		t.Errorf("summary:\n%s", r.Stdout)
	}
}

func TestRunFalseExitsOneWithEveryExitCode(t *testing.T) {
	r := runFerry(t, "run", "all", "-i", labInventory(), "--no-collapse", "--", "false")
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, h := range labHosts() {
		if !strings.Contains(r.Stdout, "---- "+h.Name+": exit 1\n") {
			t.Errorf("%s: no exit code in:\n%s", h.Name, r.Stdout)
		}
	}
	// Collapsed (the default), the same answers print once under the list.
	r = runFerry(t, "run", "all", "-i", labInventory(), "--", "false")
	var names []string
	for _, h := range labHosts() {
		names = append(names, h.Name)
	}
	want := fmt.Sprintf("---- %s (%d hosts): exit 1\n0 ok, %d failed, 0 unreachable\n", strings.Join(names, ", "), len(names), len(names))
	if r.Code != 1 || r.Stdout != want {
		t.Errorf("collapsed: exit %d\n%s\nwant:\n%s", r.Code, r.Stdout, want)
	}
}

func TestRunCollapsesIdenticalOutput(t *testing.T) {
	r := runFerry(t, "run", "web,db", "-i", labInventory(), "--", "cat /etc/debian_version | cut -d. -f1")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if !regexp.MustCompile(`(?m)^---- (db-01|web-01), .* \(4 hosts\): exit 0\n12\n4 ok, 0 failed, 0 unreachable\n$`).MatchString(r.Stdout) {
		t.Errorf("four identical answers not collapsed into one block:\n%s", r.Stdout)
	}
}

func TestRunUnreachableHostGivesTwo(t *testing.T) {
	site := newFaultSite(t, "none", []string{"web-01", "web-02"}, "")
	// A third host on web-01's address where no sshd listens.
	inv, err := os.ReadFile(site.inv)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(inv), "groups:\n  fault:\n    roles: [none]\n", "groups:\n  fault:\n", 1) +
		fmt.Sprintf("      gone-01: {address: %s, port: 1}\n", hostAddress(t, "web-01"))
	site.write("inventory.yml", text)
	r := runFerry(t, "run", "all", "-i", site.inv, "--", "hostname")
	if r.Code != 2 {
		t.Fatalf("exit %d, want 2\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"---- web-01: exit 0\nweb-01\n", "---- web-02: exit 0\nweb-02\n", "---- gone-01: unreachable", "2 ok, 0 failed, 1 unreachable"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("no %q in:\n%s", want, r.Stdout)
		}
	}
}

func TestRunModuleCheckDiffChangesNothing(t *testing.T) {
	for _, h := range []string{"web-01", "web-02"} {
		mustOnHost(t, h, "rm -f /tmp/x")
	}
	r := runFerry(t, "run", "web", "-i", labInventory(), "-m", "copy", "-a", "dest=/tmp/x content=y", "--check", "--diff")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, h := range []string{"web-01", "web-02"} {
		if !regexp.MustCompile(`(?m)^  ` + h + ` +changed +run : copy$`).MatchString(r.Stdout) {
			t.Errorf("%s: no planned change in:\n%s", h, r.Stdout)
		}
		if out := mustOnHost(t, h, "test -e /tmp/x && echo exists || echo absent"); out != "absent" {
			t.Errorf("%s: --check created /tmp/x", h)
		}
	}
	if strings.Count(r.Stdout, "+++ /tmp/x (planned)") != 2 || strings.Count(r.Stdout, "\n      +y\n") != 2 {
		t.Errorf("no diff per host:\n%s", r.Stdout)
	}
	if !strings.Contains(r.Stdout, "RECAP (check mode: nothing was changed)") {
		t.Errorf("no check-mode recap:\n%s", r.Stdout)
	}
}

// TestRunSecretMasked passes a lab secret to a command through --env and
// requires that no output, human or JSON, shows it, and that it never was
// on a command line the host saw.
func TestRunSecretMasked(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".lab", "secrets.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var secrets map[string]string
	if err := yaml.Unmarshal(raw, &secrets); err != nil {
		t.Fatal(err)
	}
	secret := secrets["mysql_app_password"]
	if len(secret) < 8 {
		t.Fatalf("lab secret mysql_app_password is %q", secret)
	}
	mustOnHost(t, "db-01", "rm -f /tmp/ferry-run-ps")
	// The command records the host's process list while it runs.
	script := `for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline; echo; done > /tmp/ferry-run-ps 2>/dev/null; echo "pw=$PW"; echo "err=$PW" >&2; exit 3`
	for _, out := range []string{"human", "json"} {
		r := runFerry(t, "run", "db-01", "-i", labInventory(), "-o", out, "--env", "PW={{ .mysql_app_password }}", "--", script)
		if r.Code != 1 {
			t.Fatalf("%s: exit %d\n%s%s", out, r.Code, r.Stdout, r.Stderr)
		}
		if strings.Contains(r.Stdout+r.Stderr, secret) {
			t.Errorf("%s output shows the secret:\n%s%s", out, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "pw=********") {
			t.Errorf("%s: the command did not get the masked secret:\n%s", out, r.Stdout)
		}
		if out == "json" {
			var ev map[string]any
			if err := json.Unmarshal([]byte(strings.SplitN(r.Stdout, "\n", 2)[0]), &ev); err != nil || ev["rc"] != float64(3) || ev["stderr"] != "err=********\n" {
				t.Errorf("json event: %v %v", ev, err)
			}
		}
		if ps := mustOnHost(t, "db-01", "cat /tmp/ferry-run-ps"); strings.Contains(ps, secret) || ps == "" {
			t.Errorf("the secret was on a command line on db-01 (or no process list):\n%s", ps)
		}
	}
	mustOnHost(t, "db-01", "rm -f /tmp/ferry-run-ps")
}

func TestFactsOfLabHosts(t *testing.T) {
	r := runFerry(t, "facts", "all", "-i", labInventory(), "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	seen := 0
	type hostFacts struct {
		Host  string         `json:"host"`
		Facts map[string]any `json:"facts"`
	}
	for _, ev := range labtest.JSONLines[hostFacts](t, r.Stdout) {
		seen++
		addrs, _ := ev.Facts["addresses"].([]any)
		if ev.Facts["hostname"] != ev.Host || ev.Facts["os_id"] != "debian" || ev.Facts["init"] != "systemd" ||
			!slices.Contains(addrs, any(hostAddress(t, ev.Host))) {
			t.Errorf("%s: facts %v", ev.Host, ev.Facts)
		}
	}
	if seen != len(labHosts()) {
		t.Errorf("%d hosts in the facts, lab has %d", seen, len(labHosts()))
	}
}
