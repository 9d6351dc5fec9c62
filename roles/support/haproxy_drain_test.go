package support

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
)

// balancer is a stand-in load balancer host for the drain scripts, run in
// a real /bin/sh: a listening runtime API socket (the scripts test -S), a
// socat that records every command and answers `show stat` with the
// recorded HAProxy answer where the server has `sessions` sessions, one
// fewer at each look, and a curl that succeeds.
type balancer struct {
	dir, bin, sock, log string
}

func newBalancer(t *testing.T, server string, sessions int) *balancer {
	t.Helper()
	b := &balancer{dir: t.TempDir()}
	b.bin = filepath.Join(b.dir, "bin")
	b.sock = filepath.Join(b.dir, "admin.sock")
	b.log = filepath.Join(b.dir, "socat.log")
	ln, err := net.Listen("unix", b.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if err := os.Mkdir(b.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := strings.Replace(recorded(t, "haproxy-show-stat.csv"), "web,web-01,", "web,"+server+",", 1)
	stat = regexp.MustCompile(`(?m)^(web,`+regexp.QuoteMeta(server)+`,[^,]*,[^,]*,)0,`).ReplaceAllString(stat, "${1}@N@,")
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("stat.csv", stat, 0o644)
	write("sessions", strings.Repeat("x", sessions), 0o644)
	d := b.dir
	write("bin/socat", `#!/bin/sh
IFS= read -r cmd; printf '%s\n' "$cmd" >> `+d+`/socat.log
case $cmd in
"show stat")
  n=$(wc -c < `+d+`/sessions); sed "s/@N@/$n/" `+d+`/stat.csv
  [ "$n" -gt 0 ] && head -c $((n - 1)) `+d+`/sessions > `+d+`/s.new && mv `+d+`/s.new `+d+`/sessions
  exit 0;;
esac
`, 0o755)
	write("bin/curl", "#!/bin/sh\nexit 0\n", 0o755)
	return b
}

func (b *balancer) run(t *testing.T, script string) (string, error) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=" + b.bin + ":/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (b *balancer) commands(t *testing.T) []string {
	t.Helper()
	got, err := os.ReadFile(b.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
}

// TestReadyScriptQuotesServer: a server name is data, never script (the
// ready script once put it into the script unquoted); a name holding a
// command substitution and quotes reaches HAProxy verbatim and runs
// nothing.
func TestReadyScriptQuotesServer(t *testing.T) {
	pwned := filepath.Join(t.TempDir(), "pwned")
	server := `web-01$(touch ` + pwned + `)"'`
	b := newBalancer(t, "web-01", 0)
	d := &inventory.Drain{Backend: "web", Socket: b.sock, Timeout: 2 * time.Second}
	if out, err := b.run(t, HAProxy{}.ReadyScript(d, server, "http://198.18.0.21/")); err != nil {
		t.Fatalf("ready script: %v\n%s", err, out)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("the server name ran as a command")
	}
	if got, want := b.commands(t), []string{"set server web/" + server + " state ready"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("runtime API got %q, want %q", got, want)
	}
}

// TestDrainScriptWaitsForSessions: the server is set to drain, then the
// script looks until its sessions are gone (3 looks here).
func TestDrainScriptWaitsForSessions(t *testing.T) {
	b := newBalancer(t, `web 02'x`, 2)
	d := &inventory.Drain{Backend: "web", Socket: b.sock, Timeout: 5 * time.Second}
	if out, err := b.run(t, HAProxy{}.DrainScript(d, `web 02'x`)); err != nil {
		t.Fatalf("drain script: %v\n%s", err, out)
	}
	want := []string{"set server web/web 02'x state drain", "show stat", "show stat", "show stat"}
	if got := b.commands(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("runtime API got %q, want %q", got, want)
	}
}

// TestDrainScriptTimesOut: sessions that outlast the timeout fail the
// drain, saying how many are left.
func TestDrainScriptTimesOut(t *testing.T) {
	b := newBalancer(t, "web-01", 1000)
	d := &inventory.Drain{Backend: "web", Socket: b.sock, Timeout: time.Second}
	out, err := b.run(t, HAProxy{}.DrainScript(d, "web-01"))
	if err == nil || !regexp.MustCompile(`^still \d+ sessions on web/web-01 after 1s\n$`).MatchString(out) {
		t.Errorf("drain: %v, %q", err, out)
	}
}

// TestDrainScriptsWithoutSocket: a balancer that serves nothing yet (first
// deploy) has nothing to drain and nothing to put back.
func TestDrainScriptsWithoutSocket(t *testing.T) {
	b := newBalancer(t, "web-01", 1)
	d := &inventory.Drain{Backend: "web", Socket: filepath.Join(b.dir, "none.sock"), Timeout: time.Second}
	for _, script := range []string{HAProxy{}.DrainScript(d, "web-01"), HAProxy{}.ReadyScript(d, "web-01", "http://x/")} {
		if out, err := b.run(t, script); err != nil {
			t.Errorf("%v: %s", err, out)
		}
	}
	if _, err := os.Stat(b.log); err == nil {
		t.Error("the runtime API was called without a socket")
	}
}
