package hostread

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ufwHost is a stand-in host for UFW's script: a folder standing for
// /etc/ufw, and a ufw that renders each line of user.rules and user6.rules
// as `ufw show added` renders a rule, and counts its starts.
type ufwHost struct {
	t                                       *testing.T
	bin, etc, defaults, version, cache, log string
}

func newUFWHost(t *testing.T) *ufwHost {
	d := t.TempDir()
	h := &ufwHost{t: t, bin: filepath.Join(d, "bin"), etc: filepath.Join(d, "etc"), defaults: filepath.Join(d, "default-ufw"),
		version: filepath.Join(d, "ufw.md5sums"), cache: filepath.Join(d, "run", "ferry", "ufw-added"), log: filepath.Join(d, "starts")}
	for _, dir := range []string{h.bin, h.etc} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h.write(filepath.Join(h.bin, "ufw"), "#!/bin/sh\necho start >>\"$LOG\"\n[ -n \"$FAIL\" ] && { echo 'ERROR: You need to be root to run this script'; exit 1; }\n"+
		"echo 'Added user rules (see '\"'\"'ufw status'\"'\"' for running firewall):'\ncat \"$ETC/user.rules\" \"$ETC/user6.rules\" 2>/dev/null | sed 's/^/ufw /'\n", 0o755)
	h.write(filepath.Join(h.etc, "ufw.conf"), "# comment\nENABLED=yes", 0o644) // no final newline
	h.write(filepath.Join(h.etc, "user.rules"), "allow 22/tcp\n", 0o640)
	h.write(filepath.Join(h.etc, "user6.rules"), "", 0o640)
	h.write(h.defaults, "IPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"", 0o644)
	h.write(h.version, "0123 usr/sbin/ufw\n", 0o644)
	return h
}

func (h *ufwHost) write(path, content string, mode os.FileMode) {
	h.t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		h.t.Fatal(err)
	}
}

// read runs the script as the reader does and returns what it parsed and
// how many times ufw started.
func (h *ufwHost) read(env ...string) (Firewall, int) {
	h.t.Helper()
	cmd := exec.Command("/bin/sh", "-c", ufwScript(h.etc, h.defaults, h.version, h.cache))
	cmd.Env = append([]string{"PATH=" + h.bin + ":/usr/bin:/bin", "LOG=" + h.log, "ETC=" + h.etc}, env...)
	out, err := cmd.Output()
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := os.ReadFile(h.log)
	os.Remove(h.log)
	return ParseFirewall(string(out)), strings.Count(string(b), "start")
}

// TestUFWReaderStartsUFWOnlyWhenRulesChange: the rules come from the cache
// while the rule files and ufw's version are unchanged, and from ufw
// again as soon as one of them changes, the cache is damaged, or a start
// of ufw failed (which is never cached). A read-only read (check mode)
// uses the cache but never writes it.
func TestUFWReaderStartsUFWOnlyWhenRulesChange(t *testing.T) {
	h := newUFWHost(t)
	expect := func(step string, fw Firewall, starts, wantStarts int, rules ...string) {
		t.Helper()
		if starts != wantStarts {
			t.Errorf("%s: ufw started %d times, want %d", step, starts, wantStarts)
		}
		if !fw.Installed || !fw.Active || fw.Incoming != "deny" || fw.Outgoing != "allow" || !slices.Equal(fw.Rules, rules) {
			t.Errorf("%s: %+v, want active, deny/allow, rules %q", step, fw, rules)
		}
	}
	fw, n := h.read(ReadOnlyEnv + "=1")
	expect("read-only read", fw, n, 1, "allow 22/tcp")
	if _, err := os.Stat(h.cache); !os.IsNotExist(err) {
		t.Errorf("a read-only read wrote the cache: %v", err)
	}
	fw, n = h.read()
	expect("first read", fw, n, 1, "allow 22/tcp")
	fw, n = h.read()
	expect("second read", fw, n, 0, "allow 22/tcp")
	fw, n = h.read(ReadOnlyEnv + "=1")
	expect("read-only read of the cache", fw, n, 0, "allow 22/tcp")
	if fi, err := os.Stat(h.cache); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache: %v %v, want mode 0600", fi.Mode(), err)
	}

	h.write(filepath.Join(h.etc, "user6.rules"), "deny from 2001:db8::/32\n", 0o640)
	fw, n = h.read()
	expect("user6.rules changed", fw, n, 1, "allow 22/tcp", "deny from 2001:db8::/32")
	fw, n = h.read()
	expect("again", fw, n, 0, "allow 22/tcp", "deny from 2001:db8::/32")

	h.write(filepath.Join(h.etc, "user.rules"), "allow 80/tcp\n", 0o640)
	fw, n = h.read()
	expect("user.rules changed", fw, n, 1, "allow 80/tcp", "deny from 2001:db8::/32")

	h.write(h.version, "4567 usr/sbin/ufw\n", 0o644)
	fw, n = h.read()
	expect("ufw upgraded", fw, n, 1, "allow 80/tcp", "deny from 2001:db8::/32")

	h.write(h.cache, "garbage\nufw allow 1/tcp\n", 0o600)
	fw, n = h.read()
	expect("damaged cache", fw, n, 1, "allow 80/tcp", "deny from 2001:db8::/32")

	h.write(filepath.Join(h.etc, "user.rules"), "allow 443/tcp\n", 0o640)
	if fw, n = h.read("FAIL=1"); n != 1 || len(fw.Rules) != 0 {
		t.Errorf("failing ufw: %d starts, rules %q", n, fw.Rules)
	}
	fw, n = h.read()
	expect("after a failed start", fw, n, 1, "allow 443/tcp", "deny from 2001:db8::/32")

	os.Remove(filepath.Join(h.etc, "ufw.conf"))
	if fw, _ = h.read(); fw.Active {
		t.Errorf("without ufw.conf: active")
	}
}
