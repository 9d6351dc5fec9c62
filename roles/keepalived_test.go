package roles_test

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/internal/invview"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/templates"
)

// renderKeepalived renders one of the keepalived role's templates for
// lb-01 of the seed inventory, with extra variables on top.
func renderKeepalived(t *testing.T, tmpl string, extra map[string]any) string {
	t.Helper()
	inv, err := inventory.Load("../testdata/inventory/seed.yml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := (&roles.Loader{Builtin: true}).Load("keepalived")
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Host("lb-01")
	data := maps.Clone(r.Defaults)
	maps.Copy(data, inv.VarsFor(h, nil, nil))
	data["keepalived_auth_pass"] = ""
	maps.Copy(data, extra)
	data["inventory_hostname"] = h.Name
	data["host"] = map[string]any{"address": h.Address}
	text, display, err := r.Templates.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	out, err := templates.New(templates.Options{Inventory: invview.New(inv, nil)}).Render(display, string(text), data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeepalivedConfig(t *testing.T) {
	for _, tc := range []struct {
		name      string
		extra     map[string]any
		want, not []string
	}{
		{"defaults", nil,
			[]string{"vrrp_version 3", "advert_int 0.5", "state BACKUP", "\tnopreempt", "unicast_peer {\n\t\t198.18.0.12\n\t}",
				`file "/var/lib/ferry/lb-haproxy-down"`, `file "/var/lib/ferry/lb-maintenance"`, "track_file {\n\t\thaproxy_down\n\t\tlb_maintenance\n\t}",
				`notify "/usr/local/sbin/ferry-lb-handover notify"`, "198.18.0.10/24 dev eth0"},
			[]string{"authentication", "\tpreempt_delay", "vrrp_track_process"}},
		{"preempt and process tracking", map[string]any{"keepalived_preempt": true, "keepalived_track_process": true},
			[]string{"preempt_delay 5", "vrrp_track_process haproxy_process", "track_process {\n\t\thaproxy_process"},
			[]string{"\tnopreempt"}},
		{"VRRPv2 with a password", map[string]any{"keepalived_vrrp_version": 2, "keepalived_advert_int": 1, "keepalived_auth_pass": "s3cret"},
			[]string{"vrrp_version 2", "auth_pass s3cret"}, nil},
		{"VRRPv3 never carries the password", map[string]any{"keepalived_auth_pass": "s3cret"},
			nil, []string{"s3cret", "authentication"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := renderKeepalived(t, "keepalived.conf.tmpl", tc.extra)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q in:\n%s", n, out)
				}
			}
		})
	}
}

// TestHandoverScript: the hand-over script renders with the address, the
// flags and the timings, and is valid sh.
func TestHandoverScript(t *testing.T) {
	out := renderKeepalived(t, "ferry-lb-handover.tmpl", nil)
	for _, w := range []string{"vip='198.18.0.10'", "dev='eth0'", "site='www.ferry.test'", "maint='/var/lib/ferry/lb-maintenance'", "drain_ms=300", "wait_ms=5000"} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q", w)
		}
	}
	path := filepath.Join(t.TempDir(), "ferry-lb-handover")
	if err := os.WriteFile(path, []byte(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, b)
	}
	b, err := exec.Command(path, "bogus").CombinedOutput()
	if err == nil || !strings.Contains(string(b), "usage:") {
		t.Errorf("unknown mode: %v %s", err, b)
	}
	hooks := renderKeepalived(t, "haproxy-handover.conf.tmpl", nil)
	for _, w := range []string{"ExecStop=-/usr/local/sbin/ferry-lb-handover stop", "ExecStopPost=-/usr/local/sbin/ferry-lb-handover stopped", "ExecStartPost=-/usr/local/sbin/ferry-lb-handover started"} {
		if !strings.Contains(hooks, w) {
			t.Errorf("haproxy hooks: missing %q", w)
		}
	}
}

// TestHandoverSettles: a host that took the floating address moments ago
// (a rolling change's previous hand-over) keeps it for
// keepalived_handover_settle_ms before it drops SYNs for the next one, so
// that the SYNs the previous hand-over dropped, sent again a second later,
// are answered first; a host that has held it long hands over at once.
// The host's commands are stand-ins: ip shows the address until the
// maintenance flag goes up, iptables records when SYNs start to be
// dropped, ss sees no open connection, curl finds the peer serving.
func TestHandoverSettles(t *testing.T) {
	const settle = 600 // ms
	dir := t.TempDir()
	state, maint := filepath.Join(dir, "keepalived.state"), filepath.Join(dir, "maintenance")
	dropped := filepath.Join(dir, "dropped-at")
	out := renderKeepalived(t, "ferry-lb-handover.tmpl", map[string]any{
		"keepalived_state_file": state, "keepalived_maintenance_flag": maint,
		"keepalived_down_flag": filepath.Join(dir, "down"), "keepalived_handover_settle_ms": settle,
	})
	bin := filepath.Join(dir, "bin")
	stubs := map[string]string{
		"ip":       `[ "$(cat ` + maint + ` 2>/dev/null)" = 1 ] || echo "2: eth0    inet 198.18.0.10/24 scope global eth0"`,
		"iptables": `case "$*" in *" -I "*) date +%s%3N > ` + dropped + `;; *" -C "*|*" -D "*) exit 1;; esac`,
		"ss":       `true`,
		"curl":     `true`,
	}
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "ferry-lb-handover")
	if err := os.WriteFile(script, []byte(out), 0o755); err != nil {
		t.Fatal(err)
	}
	release := func(mastered time.Time) (droppedAt time.Time) {
		t.Helper()
		os.Remove(dropped)
		os.Remove(maint)
		if err := os.WriteFile(state, []byte("MASTER\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(state, mastered, mastered); err != nil {
			t.Fatal(err)
		}
		// Far longer than any settling; a wait for a state file's future
		// time would outlast it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, script, "release")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release: %v\n%s", err, b)
		}
		b, err := os.ReadFile(dropped)
		if err != nil {
			t.Fatalf("release never dropped SYNs: %v", err)
		}
		ms, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return time.UnixMilli(ms)
	}
	mastered := time.Now()
	if at := release(mastered); at.Sub(mastered) < settle*time.Millisecond {
		t.Errorf("a host MASTER for a moment dropped SYNs %v after it took the address, want %d ms or more", at.Sub(mastered), settle)
	}
	// Held for a minute: the hand-over goes ahead (how soon is not timed
	// here; the machine may be slow).
	release(time.Now().Add(-time.Minute))
	// The clock was set back an hour since the host took the address: it
	// settles as if it had just taken it, not for an hour.
	release(time.Now().Add(time.Hour))
}
