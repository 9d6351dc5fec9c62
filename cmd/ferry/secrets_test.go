package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// secretCanary is the secret the tests look for. It holds characters that
// JSON escapes (<, >, &) so that a value masked in the text but not in an
// escaped field, or the reverse, is caught too.
const secretCanary = "canary-<Zq7&>-secret-0815"

// canaryForms are the ways the canary could show up in output.
var canaryForms = []string{secretCanary, "canary-\\u003cZq7\\u0026\\u003e-secret-0815", "Zq7&>-secret", "secret-0815"}

// newSecretSite is a site whose inventory reads its secrets from an
// age-encrypted file, unlocked by an X25519 identity made for the test.
func newSecretSite(t *testing.T, names ...string) (*site, string) {
	t.Helper()
	s := newSite(t, names)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := s.write("key.txt", "# test identity\n"+id.String()+"\n", 0o600)
	t.Setenv("FERRY_AGE_IDENTITY", idFile)
	var enc bytes.Buffer
	w, err := age.Encrypt(&enc, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("db_password: \"" + secretCanary + "\"\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Encrypted, the file may be world-readable: only the key unlocks it.
	s.write("secrets.age", enc.String(), 0o644)
	rolesPath, err := filepath.Abs(filepath.Join("testdata", "secrets", "roles"))
	if err != nil {
		t.Fatal(err)
	}
	return s, rolesPath
}

// assertNoCanary fails for every form of the canary in text.
func assertNoCanary(t *testing.T, what, text string) {
	t.Helper()
	for _, f := range canaryForms {
		if strings.Contains(text, f) {
			t.Errorf("%s contains the secret (%q):\n%s", what, f, text)
			return
		}
	}
}

// assertNoCanaryJSON decodes every line and checks every string in it, so
// that a value escaped in the encoding is seen as it will be read.
func assertNoCanaryJSON(t *testing.T, what, out string) {
	t.Helper()
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case string:
			assertNoCanary(t, what+" field "+path, x)
		case map[string]any:
			for k, e := range x {
				assertNoCanary(t, what+" key "+path, k)
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	for _, v := range jsonLines(t, out) {
		walk("", v)
	}
}

// TestSecretsNeverLeak runs a role that uses an age-encrypted secret in
// every way a role can — first run, no-op, drift, check, a failing run —
// with --diff -vvv in both output formats, and requires that the secret
// shows nowhere: not in stdout, stderr or the error, not in any JSON field,
// not on any remote command line, and not in any file on the host except
// the ones meant to hold it.
func TestSecretsNeverLeak(t *testing.T) {
	s, rolesPath := newSecretSite(t, "h01", "h02")
	inv := s.inventory("vault", "secrets: secrets.age\n")
	tmpBefore := ferryTempEntries(t)
	base := []string{"deploy", "-i", inv, "--roles-path", rolesPath, "--diff", "-vvv"}
	type step struct {
		name     string
		args     []string
		before   func()
		wantCode int
	}
	drift := func() {
		for _, n := range s.Names {
			root := s.root(n)
			os.WriteFile(filepath.Join(root, "etc/app/secret.conf"), []byte("password=old\n"), 0o600)
			os.WriteFile(filepath.Join(root, "etc/app/db.cnf"), []byte("[client]\npassword = old\n"), 0o600)
			os.WriteFile(filepath.Join(root, "etc/app/app.conf"), []byte("port 8080\ndsn mysql://app:old@db/app\n"), 0o640)
			os.Remove(filepath.Join(root, "etc/app/token"))
		}
	}
	steps := []step{
		{name: "first run json", args: []string{"-o", "json"}},
		{name: "no-op human", args: nil},
		{name: "drift check human", before: drift, args: []string{"--check"}},
		{name: "drift check json", args: []string{"--check", "-o", "json", "--detailed-exitcode"}, wantCode: exitDrift},
		{name: "drift run human", args: nil},
		{name: "failing check json", before: drift, args: []string{"--check", "-o", "json", "-e", "fail_now=true"}},
		{name: "failing run json", args: []string{"-o", "json", "-e", "fail_now=true"}, wantCode: exitFailed},
		{name: "failing run human", args: []string{"-e", "fail_now=true"}, wantCode: exitFailed},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		r := ferryRun(context.Background(), t, append(append([]string{}, base...), st.args...)...)
		if r.code != st.wantCode {
			t.Errorf("%s: exit %d, want %d (err %v)\n%s", st.name, r.code, st.wantCode, r.err, r.stdout)
		}
		assertNoCanary(t, st.name+" stdout", r.stdout)
		assertNoCanary(t, st.name+" stderr", r.stderr)
		if r.err != nil {
			assertPrintable(t, r.err)
			func() {
				defer func() { recover() }()
				assertNoCanary(t, st.name+" error", r.err.Error())
			}()
		}
		if strings.Contains(strings.Join(st.args, " "), "json") {
			assertNoCanaryJSON(t, st.name+" json", r.stdout)
		}
		if strings.Contains(st.name, "failing run") && !strings.Contains(r.stdout, "cannot log in as app with ********") {
			t.Errorf("%s: the failure message is not shown masked:\n%s", st.name, r.stdout)
		}
		if strings.Contains(st.name, "drift check") && !strings.Contains(r.stdout, "********") {
			t.Errorf("%s: the diff of the plain template does not show the masked secret:\n%s", st.name, r.stdout)
		}
	}
	// The command lines the hosts saw: scripts travel over stdin.
	for _, n := range s.Names {
		cmds := s.Servers[n].Commands()
		if len(cmds) == 0 {
			t.Fatalf("%s: no commands recorded", n)
		}
		for _, c := range cmds {
			assertNoCanary(t, n+" command line", c)
		}
	}
	// On the hosts: the secret is in the files meant to hold it, with
	// tight modes, and nowhere else (no temp file, no backup).
	wantSecret := map[string]os.FileMode{
		"etc/app/secret.conf": 0o600,
		"etc/app/db.cnf":      0o600,
		"etc/app/app.conf":    0o640,
		"etc/app/token":       0o644,
	}
	for _, n := range s.Names {
		root := s.root(n)
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			b, _ := os.ReadFile(p)
			if _, ok := wantSecret[rel]; !ok && bytes.Contains(b, []byte(secretCanary)) {
				t.Errorf("%s: %s holds the secret", n, rel)
			}
			if strings.Contains(rel, "ferry-tmp") || strings.Contains(rel, "ferry-backup") {
				t.Errorf("%s: %s left behind", n, rel)
			}
			return nil
		})
		for rel, mode := range wantSecret {
			info, err := os.Stat(filepath.Join(root, rel))
			if err != nil {
				t.Errorf("%s: %v", n, err)
				continue
			}
			if info.Mode().Perm() != mode {
				t.Errorf("%s: %s mode %04o, want %04o", n, rel, info.Mode().Perm(), mode)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(root, "etc/app/secret.conf")); string(b) != "password="+secretCanary+"\n" {
			t.Errorf("%s: secret.conf = %q", n, b)
		}
		if _, err := os.Stat(filepath.Join(root, "etc/app/checked.conf")); err == nil {
			t.Errorf("%s: a candidate the validator rejected went live", n)
		}
	}
	if left := newEntries(tmpBefore, ferryTempEntries(t)); len(left) > 0 {
		t.Errorf("ferry temp entries left in %s: %v", os.TempDir(), left)
	}
}

// TestSecretsFileMode: a secret file lands 0600 when the role gives no
// mode, also when it is created again.
func TestSecretsFileMode(t *testing.T) {
	s, rolesPath := newSecretSite(t, "h01")
	inv := s.inventory("vault", "secrets: secrets.age\n")
	args := []string{"deploy", "-i", inv, "--roles-path", rolesPath}
	if r := ferryRun(context.Background(), t, args...); r.code != exitOK {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stdout)
	}
	p := filepath.Join(s.root("h01"), "etc/app/secret.conf")
	info, err := os.Stat(p)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret.conf: %v, %v; want mode 0600", info.Mode(), err)
	}
	// A secret file with no mode in the role keeps the mode an operator
	// gave it (the copy contract for unset modes); what must never happen
	// is a new secret file created readable by others.
	os.Remove(p)
	ferryRun(context.Background(), t, args...)
	if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("recreated secret.conf: %v, %v; want mode 0600", info, err)
	}
}

// TestSecretsWithoutKey: an encrypted secrets file and no key is bad
// input naming what to set, and nothing connects.
func TestSecretsWithoutKey(t *testing.T) {
	s, rolesPath := newSecretSite(t, "h01")
	inv := s.inventory("vault", "secrets: secrets.age\n")
	t.Setenv("FERRY_AGE_IDENTITY", "")
	t.Setenv("FERRY_SECRETS_PASSPHRASE", "")
	r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--roles-path", rolesPath)
	if r.code != exitBadInput {
		t.Fatalf("exit %d, want %d", r.code, exitBadInput)
	}
	for _, w := range []string{inv + ":2", "secrets.age", "FERRY_AGE_IDENTITY"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not name %q: %s", w, r.stderr)
		}
	}
	if s.Servers["h01"].Connections() != 0 {
		t.Error("connected without being able to read the secrets")
	}
}

// ferryTempEntries lists entries of the system temp dir that ferry's
// uploads would create there (the private staging dirs of sudo uploads).
func ferryTempEntries(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "ferry-") || strings.Contains(e.Name(), "ferry-tmp") {
			out[e.Name()] = true
		}
	}
	return out
}

func newEntries(before, after map[string]bool) []string {
	var out []string
	for n := range after {
		if !before[n] {
			out = append(out, n)
		}
	}
	return out
}
