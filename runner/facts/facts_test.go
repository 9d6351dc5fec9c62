package facts

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/local"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

func TestParseRecorded(t *testing.T) {
	tests := []struct {
		file string
		want map[string]any
		left statedir.Left
	}{
		{"testdata/debian12.txt", map[string]any{
			"os_id": "debian", "os_version": "12", "os_family": "debian", "pkg_mgr": "apt",
			"init": "sysvinit", "hostname": "vm", "addresses": []string{"192.0.2.2", "fd00::2"},
			"cpus": 2, "memory_mb": 24105,
		}, statedir.Left{}},
		// The script as it is now: ip's own lines after the marker, read
		// by hostread (recorded ip -o addr show of a load balancer holding
		// 198.18.0.10), and the kernel's list of online CPUs.
		{"testdata/debian12-ip.txt", map[string]any{
			"os_id": "debian", "os_version": "12", "os_family": "debian", "pkg_mgr": "apt",
			"init": "systemd", "hostname": "lb-01", "addresses": []string{"198.18.0.11", "198.18.0.10"},
			"cpus": 2, "memory_mb": 2000,
		}, statedir.Left{}},
		{"testdata/rocky9.txt", map[string]any{
			"os_id": "rocky", "os_version": "9.4", "os_family": "redhat", "pkg_mgr": "dnf",
			"init": "systemd", "hostname": "db-02.ferry.test", "addresses": []string{"198.18.0.32", "2001:db8::32"},
			"cpus": 4, "memory_mb": 3789,
		}, statedir.Left{PendingHandlers: []string{"web/reload nginx"}, DrainedPlays: []string{"web"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, left, err := Parse(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			// The engine's state stays out of the facts templates see.
			if !reflect.DeepEqual(left, tt.left) {
				t.Errorf("state left %#v, want %#v", left, tt.left)
			}
		})
	}
}

func TestParseRejectsIncompleteOutput(t *testing.T) {
	for name, out := range map[string]string{
		"no os":     "cpus=1\nmemory_kb=1024\n",
		"bad cpus":  "os_id=debian\ncpus=\nmemory_kb=1024\n",
		"no memory": "os_id=debian\ncpus=2\n",
	} {
		if _, _, err := Parse(out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCPUCount(t *testing.T) {
	for _, tt := range []struct {
		raw  map[string]string
		want int
	}{
		{map[string]string{"cpus_online": "0"}, 1},
		{map[string]string{"cpus_online": "0-1"}, 2},
		{map[string]string{"cpus_online": "0-3,6,8-9"}, 7},
		{map[string]string{"cpus": "12"}, 12},
	} {
		if got, err := cpuCount(tt.raw); err != nil || got != tt.want {
			t.Errorf("cpuCount(%v) = %d, %v; want %d", tt.raw, got, err, tt.want)
		}
	}
	for _, raw := range []map[string]string{
		{"cpus_online": ""}, {"cpus_online": "3-1"}, {"cpus_online": "0-"}, {"cpus_online": "a"},
		{"cpus": "0"}, {"cpus": ""}, {},
	} {
		if n, err := cpuCount(raw); err == nil {
			t.Errorf("cpuCount(%v) = %d, want an error", raw, n)
		}
	}
}

func TestFamily(t *testing.T) {
	for _, tt := range []struct{ id, like, want string }{
		{"ubuntu", "debian", "debian"},
		{"almalinux", "rhel centos fedora", "redhat"},
		{"linuxmint", "ubuntu debian", "debian"},
		{"nixos", "", "nixos"},
	} {
		if got := family(tt.id, tt.like); got != tt.want {
			t.Errorf("family(%q, %q) = %q, want %q", tt.id, tt.like, got, tt.want)
		}
	}
}

func TestGatherLocal(t *testing.T) {
	f, err := Gather(context.Background(), local.New(local.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if f["hostname"] != host {
		t.Errorf("hostname = %v, want %v", f["hostname"], host)
	}
	if f["os_id"] == "" || f["os_family"] == "" {
		t.Errorf("os facts empty: %v", f)
	}
	// The builtins' reads agree with the programs they replace.
	if want := commandInt(t, "getconf", "_NPROCESSORS_ONLN"); f["cpus"] != want {
		t.Errorf("cpus = %v, getconf says %d", f["cpus"], want)
	}
	if want := commandInt(t, "awk", "/^MemTotal:/ {print $2}", "/proc/meminfo") / 1024; f["memory_mb"] != want {
		t.Errorf("memory_mb = %v, /proc/meminfo says %d", f["memory_mb"], want)
	}
	for _, a := range f["addresses"].([]string) {
		if a == "127.0.0.1" || a == "::1" {
			t.Errorf("loopback %s in addresses", a)
		}
	}
	if f["init"] != "systemd" && f["init"] != "sysvinit" {
		t.Errorf("init = %v", f["init"])
	}
}

// commandInt runs a program on this machine and reads its output as a number.
func commandInt(t *testing.T, name string, args ...string) int {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}
