package roles_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
