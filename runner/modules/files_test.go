package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopyConvergesWithDiff(t *testing.T) {
	tg, rec := localTarget(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "site.conf")
	writeFile(t, dest, []byte("server {\n  listen 80;\n  root /srv;\n}\n"), 0o600)
	args := map[string]any{"dest": dest, "content": "server {\n  listen 8080;\n  root /srv;\n}\n", "mode": "0644"}
	c := converge(t, tg, rec, "copy", args)
	golden(t, "copy_update.diff", normalize(c.Diff, dir))
	if !strings.HasPrefix(c.Diff, "--- "+dest+" (current)\n+++ "+dest+" (planned)\n") {
		t.Errorf("diff headers: %q", c.Diff)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v", fi.Mode())
	}
}

func TestCopyCreatesAndTemplateIsCopy(t *testing.T) {
	tg, rec := localTarget(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "new.conf")
	c := converge(t, tg, rec, "template", map[string]any{"dest": dest, "content": "a\nb\n"})
	golden(t, "copy_create.diff", normalize(c.Diff, dir))
	if c.Summary[0] != "create "+dest+" (0644)" {
		t.Errorf("summary = %v", c.Summary)
	}
}

func TestCopyModeOnlyFixedInPlace(t *testing.T) {
	tg, rec := localTarget(t)
	dest := filepath.Join(t.TempDir(), "f")
	writeFile(t, dest, []byte("same"), 0o644)
	before, _ := os.Stat(dest)
	c := converge(t, tg, rec, "copy", map[string]any{"dest": dest, "content": "same", "mode": "0640"})
	if c.Diff != "" || len(c.Summary) != 1 || !strings.HasPrefix(c.Summary[0], "chmod 0640 ") {
		t.Errorf("change = %+v", c)
	}
	after, _ := os.Stat(dest)
	if !os.SameFile(before, after) {
		t.Error("file was replaced instead of fixed in place")
	}
}

func TestCopySecretShowsNoContent(t *testing.T) {
	tg, rec := localTarget(t)
	dest := filepath.Join(t.TempDir(), "key.pem")
	writeFile(t, dest, []byte("old-secret-material"), 0o600)
	c := converge(t, tg, rec, "copy", map[string]any{"dest": dest, "content": "new-secret-material", "secret": true})
	if c.Diff != "content changed (secret)" {
		t.Errorf("diff = %q", c.Diff)
	}
	if strings.Contains(strings.Join(c.Summary, " "), "secret-material") {
		t.Errorf("summary leaks: %v", c.Summary)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, the existing 0600 must be kept", fi.Mode())
	}
}

func TestCopyValidationFailureKeepsFile(t *testing.T) {
	tg, _ := localTarget(t)
	dest := filepath.Join(t.TempDir(), "f")
	writeFile(t, dest, []byte("good\n"), 0o644)
	m := newModule(t, "copy", map[string]any{"dest": dest, "content": "bad\n", "validate": "grep -q good %s"})
	ctx := context.Background()
	c, err := m.Plan(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, tg, c); err == nil || !strings.Contains(err.Error(), "validation failed") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "good\n" {
		t.Errorf("content = %q", b)
	}
}

func TestCopyArgs(t *testing.T) {
	spec, _ := Lookup("copy")
	// Each rejection names the argument and says why.
	for name, tt := range map[string]struct {
		args map[string]any
		want string
	}{
		"unknown":      {map[string]any{"dest": "/x", "content": "", "colour": "red"}, "copy: argument colour: unknown argument (valid: content, src, dest,"},
		"no content":   {map[string]any{"dest": "/x"}, "copy: argument content: required (or src)"},
		"src only":     {map[string]any{"dest": "/x", "src": "a.conf"}, "copy: argument src: not resolved to content by the engine"},
		"relative":     {map[string]any{"dest": "x", "content": ""}, `copy: argument dest: "x" is not an absolute path`},
		"int mode":     {map[string]any{"dest": "/x", "content": "", "mode": 420}, `copy: argument mode: want a quoted octal string such as "0644", got 420`},
		"bad mode":     {map[string]any{"dest": "/x", "content": "", "mode": "0999"}, `copy: argument mode: "0999" is not an octal mode`},
		"bad bool":     {map[string]any{"dest": "/x", "content": "", "backup": "maybe"}, "copy: argument backup: want true or false, got maybe"},
		"content type": {map[string]any{"dest": "/x", "content": []any{"a"}}, "copy: argument content: want a string, got []interface {}"},
	} {
		_, err := spec.New(tt.args)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to start %q", name, err, tt.want)
		}
	}
	if _, err := spec.New(map[string]any{"dest": "/x", "content": "", "mode": "0755", "backup": "yes"}); err != nil {
		t.Errorf("valid args rejected: %v", err)
	}
}

func TestFileStates(t *testing.T) {
	tg, rec := localTarget(t)
	dir := t.TempDir()
	d := filepath.Join(dir, "a", "b")
	converge(t, tg, rec, "file", map[string]any{"path": d, "state": "directory", "mode": "0750"})
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Fatalf("dir: %v %v", fi, err)
	}
	f := filepath.Join(d, "touched")
	converge(t, tg, rec, "file", map[string]any{"path": f, "state": "touch", "mode": "0600"})
	converge(t, tg, rec, "file", map[string]any{"path": f, "mode": "0640", "owner": "root"})
	if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v", fi.Mode())
	}
	l := filepath.Join(dir, "link")
	converge(t, tg, rec, "file", map[string]any{"path": l, "state": "link", "src": f})
	converge(t, tg, rec, "file", map[string]any{"path": l, "state": "link", "src": d})
	if to, _ := os.Readlink(l); to != d {
		t.Errorf("link -> %s", to)
	}
	converge(t, tg, rec, "file", map[string]any{"path": filepath.Join(dir, "a"), "state": "absent"})
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Errorf("directory still there: %v", err)
	}
}

func TestFileStateFileNeedsExistingFile(t *testing.T) {
	tg, _ := localTarget(t)
	m := newModule(t, "file", map[string]any{"path": filepath.Join(t.TempDir(), "missing"), "mode": "0644"})
	if _, err := m.Plan(context.Background(), tg); err == nil {
		t.Fatal("state file on a missing path planned without error")
	}
}

func TestLine(t *testing.T) {
	tg, rec := localTarget(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "sshd_config")
	writeFile(t, p, []byte("Port 22\n#PermitRootLogin yes\nPermitRootLogin yes\nUsePAM yes"), 0o600)
	c := converge(t, tg, rec, "line", map[string]any{"path": p, "regexp": "^#?PermitRootLogin", "line": "PermitRootLogin prohibit-password"})
	golden(t, "line_replace.diff", normalize(c.Diff, dir))
	converge(t, tg, rec, "line", map[string]any{"path": p, "line": "X11Forwarding no"})
	converge(t, tg, rec, "line", map[string]any{"path": p, "line": "Port 22", "state": "absent", "mode": "0644"})
	b, _ := os.ReadFile(p)
	want := "#PermitRootLogin yes\nPermitRootLogin prohibit-password\nUsePAM yes\nX11Forwarding no\n"
	if string(b) != want {
		t.Errorf("content = %q, want %q", b, want)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v", fi.Mode())
	}
}

func TestLineCreate(t *testing.T) {
	tg, rec := localTarget(t)
	p := filepath.Join(t.TempDir(), "new")
	m := newModule(t, "line", map[string]any{"path": p, "line": "a=1"})
	if _, err := m.Plan(context.Background(), tg); err == nil {
		t.Error("missing file without create planned without error")
	}
	converge(t, tg, rec, "line", map[string]any{"path": p, "line": "a=1", "create": true})
	if b, _ := os.ReadFile(p); string(b) != "a=1\n" {
		t.Errorf("content = %q", b)
	}
}

func TestEditLines(t *testing.T) {
	for _, tt := range []struct{ in, line, re, state, want string }{
		{"", "x", "", "present", "x\n"},
		{"a\nx\n", "x", "", "present", "a\nx\n"},
		{"k=1\nk=2\n", "k=3", "^k=", "present", "k=1\nk=3\n"},
		{"k=1\nk=2", "k=3", "^k=", "present", "k=1\nk=3"},
		{"k=1\nj=2\nk=2\n", "", "^k=", "absent", "j=2\n"},
		{"a\nb\na\n", "a", "", "absent", "b\n"},
	} {
		var re = compileOrNil(tt.re)
		if got := editLines(tt.in, tt.line, re, tt.state); got != tt.want {
			t.Errorf("editLines(%q, %q, %q, %s) = %q, want %q", tt.in, tt.line, tt.re, tt.state, got, tt.want)
		}
	}
}

func TestTemplateSpecForTheLoader(t *testing.T) {
	spec, _ := Lookup("template")
	if strings.Join(spec.Required, ",") != "src,dest" {
		t.Errorf("required %v", spec.Required)
	}
	for _, a := range spec.Args {
		if a == "content" {
			t.Error("template offers content to users")
		}
	}
	// After the engine swapped src for content:
	if _, err := spec.New(map[string]any{"dest": "/x", "content": "rendered"}); err != nil {
		t.Error(err)
	}
}
