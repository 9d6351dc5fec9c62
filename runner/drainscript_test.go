package runner

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
)

// TestReadyScriptQuotesServer: a server name is data, never script. The
// ready script runs in a real /bin/sh with stand-ins for curl and socat
// (which records the runtime API command it was given); a name holding a
// command substitution must reach HAProxy verbatim and run nothing.
func TestReadyScriptQuotesServer(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(dir, "socat-input")
	for name, body := range map[string]string{
		"curl":  "exit 0",
		"socat": "cat > " + got,
	} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pwned := filepath.Join(dir, "pwned")
	server := `web-01$(touch ` + pwned + `)"'`
	d := &inventory.Drain{Backend: "web", Socket: sock, Timeout: 2 * time.Second}
	cmd := exec.Command("/bin/sh", "-c", readyScript(d, server, "http://198.18.0.21/"))
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ready script: %v\n%s", err, out)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("the server name ran as a command")
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if want := "set server web/" + server + " state ready\n"; string(b) != want {
		t.Errorf("runtime API got %q, want %q", b, want)
	}
}
