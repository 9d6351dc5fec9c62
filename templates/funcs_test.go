package templates

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// shellEcho runs `printf %s WORD` through /bin/sh and returns what the
// shell made of the quoted word.
func shellEcho(t testing.TB, quoted string) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+quoted).Output()
	if err != nil {
		t.Fatalf("sh -c printf %s: %v", quoted, err)
	}
	return string(out)
}

var nastyStrings = []string{
	"", "plain", "two words", "it's", "''", `"double" and 'single'`, `$HOME $(id) ` + "`id`",
	`back\slash\`, "new\nline", "tab\there", "; rm -rf / #", "*?[a-z]", "~root", "-n", "ünïcødé ☃",
	"\x01\x7f control", "trailing space ", "'", `\'`, "!bang !!",
}

func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range nastyStrings {
		q, err := ShellQuote(s)
		if err != nil {
			t.Fatalf("ShellQuote(%q): %v", s, err)
		}
		if got := shellEcho(t, q); got != s {
			t.Errorf("ShellQuote(%q) = %s; the shell read %q", s, q, got)
		}
	}
}

func TestShellQuoteValues(t *testing.T) {
	tests := []struct {
		in      any
		want    string
		wantErr bool
	}{
		{in: 8080, want: "'8080'"},
		{in: true, want: "'true'"},
		{in: "a'b", want: `'a'\''b'`},
		{in: nil, wantErr: true},
		{in: "a\x00b", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ShellQuote(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ShellQuote(%#v) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzShellQuote(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ShellQuote(s)
		if strings.IndexByte(s, 0) >= 0 {
			if err == nil {
				t.Fatalf("ShellQuote(%q) accepted a NUL byte", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("ShellQuote(%q): %v", s, err)
		}
		// dash reads bytes, so invalid UTF-8 round-trips too; the check
		// stays on valid text only to keep the failure messages readable.
		if !utf8.ValidString(s) {
			return
		}
		if got := shellEcho(t, q); got != s {
			t.Fatalf("ShellQuote(%q) = %s; the shell read %q", s, q, got)
		}
	})
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs.txt")
	if err := os.WriteFile(abs, []byte("absolute"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := New(Options{BaseDir: "testdata/render"})
	for text, want := range map[string]string{
		`{{ readFile "motd.txt" | trim }}`:    "hello from the motd file",
		`{{ readFile "` + abs + `" }}`:        "absolute",
		`{{ readFile "../render/motd.txt" }}`: "  hello from the motd file  \n",
	} {
		got, err := e.Render("t", text, nil)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", text, got, err, want)
		}
	}
}

func TestHostsAndHostvar(t *testing.T) {
	e := newTestEngine(t)
	got, err := e.Render("t", `{{ range hosts "web" }}{{ .Name }}={{ .Address }} {{ end }}{{ len (hosts "empty") }} {{ hostvar "web-02" "http_port" }}`, nil)
	if want := "web-01=198.18.0.21 web-02=198.18.0.22 0 8080"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	// Without an inventory, the helpers fail rather than render nothing.
	if _, err := New(Options{}).Render("t", `{{ hosts "web" }}`, nil); err == nil || !strings.Contains(err.Error(), "no inventory") {
		t.Errorf("hosts without inventory: %v", err)
	}
}
