package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pemSecrets holds a multi-line secret (a PEM key), a secret that is
// rotated between runs and a secret too short to be masked inside words.
const pemSecrets = `tls_key: |
  -----BEGIN PRIVATE KEY-----
  MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7pemLineOne
  Zq7pemLineTwo+xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abc/defgh=
  -----END PRIVATE KEY-----
app_password: OLD-pass-4711
short_secret: ab
`

// pemLeaks are the parts of the secrets that must never show.
var pemLeaks = []string{"pemLineOne", "pemLineTwo", "OLD-pass-4711", "NEW-pass-0815"}

const pemRole = `defaults: {fail_now: false}
tasks:
  - name: plain template holding a key
    template: {src: tls.conf.tmpl, dest: "{{ .root }}/tls.conf", mode: "0644"}
  - name: command that prints the key and fails
    shell: {cmd: "printf '%s\\n' {{ shellquote .tls_key }} >&2; echo 'variable tab {{ .short_secret }}' >&2; exit 1"}
    when: .fail_now
    ignore_errors: true
`

const pemTemplate = "# tls\npassword = {{ .app_password }}\n{{ .tls_key }}"

func assertNoPEMLeak(t *testing.T, what, text string) {
	t.Helper()
	for _, l := range pemLeaks {
		if strings.Contains(text, l) {
			t.Errorf("%s shows %q:\n%s", what, l, text)
		}
	}
}

// TestSecretsMaskedLineByLine: every line of a multi-line secret is masked
// in a plain template's diff (human and JSON) and in a command's stderr; the
// old value of a rotated secret is masked on the diff's old side; a short
// secret is masked as a word but not inside other words.
func TestSecretsMaskedLineByLine(t *testing.T) {
	s := newSite(t, []string{"h01"})
	s.write("secrets.yml", pemSecrets, 0o600)
	s.role("pem", pemRole, map[string]string{"tls.conf.tmpl": pemTemplate})
	inv := s.inventory("pem", "secrets: secrets.yml\n")
	base := []string{"deploy", "-i", inv, "--roles-path", s.dir + "/roles", "--diff", "-vvv"}
	check := func(name string, wantCode int, args ...string) result {
		t.Helper()
		r := ferryRun(context.Background(), t, append(append([]string{}, base...), args...)...)
		if r.code != wantCode {
			t.Errorf("%s: exit %d, want %d (%v)\n%s", name, r.code, wantCode, r.err, r.stdout)
		}
		assertNoPEMLeak(t, name+" stdout", r.stdout)
		assertNoPEMLeak(t, name+" stderr", r.stderr)
		if strings.Contains(strings.Join(args, " "), "json") {
			// Decoded, so that an escaped line is seen as it reads.
			saved := canaryForms
			canaryForms = pemLeaks
			assertNoCanaryJSON(t, name+" json", r.stdout)
			canaryForms = saved
		}
		return r
	}
	r := check("first run human", exitOK)
	if !strings.Contains(r.stdout, "+********") {
		t.Errorf("first run: the diff does not show the masked key lines:\n%s", r.stdout)
	}
	if err := os.WriteFile(filepath.Join(s.root("h01"), "tls.conf"), []byte("drifted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("drift check json", exitOK, "--check", "-o", "json")

	// The failing task has ignore_errors: it is reported (masked) but
	// does not fail the run (issue #14).
	r = check("failing command human", exitOK, "-e", "fail_now=true")
	if !strings.Contains(r.stdout, "variable tab ********") {
		t.Errorf("the short secret is not masked as a word, or masked inside words:\n%s", r.stdout)
	}
	check("failing command json", exitOK, "-e", "fail_now=true", "-o", "json")

	// Rotate the password: the old one is in the file on the host, and
	// must not show on the diff's old side.
	s.write("secrets.yml", strings.Replace(pemSecrets, "OLD-pass-4711", "NEW-pass-0815", 1), 0o600)
	r = check("rotated check human", exitOK, "--check")
	if !strings.Contains(r.stdout, "-password = ********") {
		t.Errorf("rotated check: the old side is not shown masked:\n%s", r.stdout)
	}
	check("rotated check json", exitOK, "--check", "-o", "json")
}
