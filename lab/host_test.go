package lab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testSpec(t *testing.T) Spec {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not installed")
	}
	s, err := Spec{StateDir: t.TempDir(), Hosts: []HostSpec{
		{Name: "web-01", Address: "198.18.0.21"}, {Name: "db-01", Address: "198.18.0.31"},
	}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := ensureKey(ctx, s.KeyFile, "ferry-lab"); err != nil {
		t.Fatal(err)
	}
	for _, h := range s.Hosts {
		if err := s.ensureHostKey(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestKnownHostsListsEveryHostKey(t *testing.T) {
	s := testSpec(t)
	if err := s.writeKnownHosts(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("known_hosts has %d lines:\n%s", len(lines), data)
	}
	pub, _ := os.ReadFile(s.hostKeyFile("db-01") + ".pub")
	want := "198.18.0.31,db-01 " + strings.Join(strings.Fields(string(pub))[:2], " ")
	if lines[1] != want {
		t.Errorf("line = %q, want %q", lines[1], want)
	}
	// Keys are made once: a second run keeps them, so known_hosts holds.
	before, _ := os.ReadFile(s.hostKeyFile("db-01"))
	if err := s.ensureHostKey(context.Background(), "db-01"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(s.hostKeyFile("db-01"))
	if string(before) != string(after) {
		t.Error("host key regenerated")
	}
}

func TestPrepareUpper(t *testing.T) {
	s := testSpec(t)
	h := s.Hosts[0]
	if err := s.prepareUpper(h, []byte("Types: deb\n")); err != nil {
		t.Fatal(err)
	}
	up := s.upperDir(h.Name)
	read := func(p string) string {
		data, err := os.ReadFile(filepath.Join(up, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if got := read("etc/hostname"); got != "web-01\n" {
		t.Errorf("hostname %q", got)
	}
	if got := read("etc/hosts"); !strings.Contains(got, "198.18.0.31\tdb-01\n") || !strings.Contains(got, "198.18.0.21\tweb-01\n") {
		t.Errorf("hosts lacks the lab:\n%s", got)
	}
	id := strings.TrimSpace(read("etc/machine-id"))
	if len(id) != 32 {
		t.Errorf("machine-id %q", id)
	}
	labPub, _ := os.ReadFile(s.KeyFile + ".pub")
	if read("root/.ssh/authorized_keys") != string(labPub) {
		t.Error("lab key not authorised for root")
	}
	hostKey, _ := os.ReadFile(s.hostKeyFile(h.Name))
	if read("etc/ssh/ssh_host_ed25519_key") != string(hostKey) {
		t.Error("host key differs from the controller's copy")
	}
	for p, want := range map[string]os.FileMode{"etc/ssh/ssh_host_ed25519_key": 0o600, "root/.ssh/authorized_keys": 0o600, "root/.ssh": 0o700, "root": 0o700} {
		fi, err := os.Stat(filepath.Join(up, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", p, fi.Mode().Perm(), want)
		}
	}
	// A restarted host keeps its identity.
	if err := s.prepareUpper(h, []byte("Types: deb\n")); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(read("etc/machine-id")); got != id {
		t.Errorf("machine-id changed on restart: %s -> %s", id, got)
	}
}

func TestFinishBaseStripsIdentity(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc/ssh", "etc/apt/apt.conf.d", "var/cache/apt/archives"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_ed25519_key.pub", "var/cache/apt/archives/x.deb"} {
		writeFile(t, root, f, "x")
	}
	writeFile(t, root, "etc/machine-id", "68180f8ab3a54ef0a650b0c856622a8e\n")
	if err := os.Symlink("/run/systemd/resolve/stub-resolv.conf", filepath.Join(root, "etc/resolv.conf")); err != nil {
		t.Fatal(err)
	}
	if err := finishBase(root); err != nil {
		t.Fatal(err)
	}
	if keys, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*")); len(keys) > 0 {
		t.Errorf("base keeps host keys %v: hosts would share them", keys)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc/machine-id")); len(data) != 0 {
		t.Errorf("base keeps machine-id %q", data)
	}
	if fi, err := os.Lstat(filepath.Join(root, "etc/resolv.conf")); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("resolv.conf still a link into the controller: %v", err)
	}
	if stamp, _ := os.ReadFile(filepath.Join(root, baseStampPath)); string(stamp) != baseStamp() {
		t.Errorf("stamp %q", stamp)
	}
}
