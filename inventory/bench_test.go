package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeBigInventory writes an INI inventory of 10,000 hosts written as
// ranges: 50 groups of 200 hosts under 5 parent groups, each group with
// [g:vars] and a group_vars file, plus group_vars/all and 100 host_vars.
//
// FERRY_BENCH_DIR, when set, is where it is written (and left), so that
// bench/inventory.sh can give the same files to ansible-inventory.
func writeBigInventory(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FERRY_BENCH_DIR")
	if dir == "" {
		dir = tb.TempDir()
	}
	var b strings.Builder
	for g := 0; g < 50; g++ {
		fmt.Fprintf(&b, "[app%02d]\napp%02d-[000:199].dc%d.example.com http_port=%d\n", g, g, g%5, 8000+g)
		fmt.Fprintf(&b, "[app%02d:vars]\nrole=app%02d\nweight=%d\n", g, g, g)
	}
	for p := 0; p < 5; p++ {
		fmt.Fprintf(&b, "[dc%d:children]\n", p)
		for g := p; g < 50; g += 5 {
			fmt.Fprintf(&b, "app%02d\n", g)
		}
		fmt.Fprintf(&b, "[dc%d:vars]\ndatacenter=dc%d\nansible_user=deploy%d\n", p, p, p)
	}
	b.WriteString("[all:vars]\nntp_server=ntp.example.com\n")
	write := func(rel, content string) {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("hosts.ini", b.String())
	write("group_vars/all.yml", "domain: example.com\nlimits: {nofile: 65536, nproc: 4096}\npackages: [curl, vim, htop]\n")
	for g := 0; g < 50; g++ {
		write(fmt.Sprintf("group_vars/app%02d.yml", g), fmt.Sprintf("app_name: app%02d\nreplicas: %d\nenabled: yes\n", g, g%7))
	}
	for h := 0; h < 100; h++ {
		write(fmt.Sprintf("host_vars/app%02d-%03d.dc%d.example.com.yml", h%50, h, h%50%5), "special: true\n")
	}
	return filepath.Join(dir, "hosts.ini")
}

// BenchmarkLoad10k resolves a 10,000-host inventory with ranges and
// group_vars: parsing, vars files, precedence and connection for every
// host. The target is under 1 s per load.
func BenchmarkLoad10k(b *testing.B) {
	path := writeBigInventory(b)
	b.ReportAllocs()
	// The machine is shared: CPU time per load, beside the wall time, says
	// what the load itself costs.
	cpu0 := cpuTime()
	for b.Loop() {
		inv, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Hosts) != 10000 {
			b.Fatalf("%d hosts, want 10000", len(inv.Hosts))
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user and system time so far (GC included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLoad10k checks what the benchmark measures: every host is there with
// its merged variables (the timing itself is the benchmark's).
func TestLoad10k(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds a 10,000-host inventory")
	}
	inv, err := Load(writeBigInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) != 10000 {
		t.Fatalf("%d hosts, want 10000", len(inv.Hosts))
	}
	h := inv.Host("app07-007.dc2.example.com")
	if h == nil {
		t.Fatal("app07-007.dc2.example.com missing")
	}
	v := inv.VarsFor(h, nil, nil)
	if v["http_port"] != 8007 || v["app_name"] != "app07" || v["datacenter"] != "dc2" || v["special"] != true || h.Conn.User != "deploy2" {
		t.Errorf("vars %v user %q", v, h.Conn.User)
	}
}
