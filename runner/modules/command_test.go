package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandGuards(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists")
	writeFile(t, exists, nil, 0o644)
	missing := filepath.Join(dir, "missing")
	for _, tt := range []struct {
		name    string
		args    map[string]any
		changed bool
		trips   int
	}{
		{"no guard", map[string]any{"cmd": "true"}, true, 0},
		{"creates exists", map[string]any{"cmd": "true", "creates": exists}, false, 1},
		{"creates missing", map[string]any{"cmd": "true", "creates": missing}, true, 1},
		{"removes missing", map[string]any{"cmd": "true", "removes": missing}, false, 1},
		{"unless ok", map[string]any{"cmd": "true", "unless": "test -e " + exists}, false, 1},
		{"unless fails", map[string]any{"cmd": "true", "unless": "exit 3"}, true, 1},
		{"onlyif fails", map[string]any{"cmd": "true", "onlyif": "false"}, false, 1},
		{"chdir relative creates", map[string]any{"cmd": "true", "chdir": dir, "creates": "exists"}, false, 1},
		{"all pass", map[string]any{"cmd": "true", "creates": missing, "removes": exists, "unless": "false", "onlyif": "true"}, true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg, rec := localTarget(t)
			c, err := newModule(t, "shell", tt.args).Plan(context.Background(), tg)
			if err != nil {
				t.Fatal(err)
			}
			if c.Changed != tt.changed {
				t.Errorf("changed = %v, want %v (%v)", c.Changed, tt.changed, c.Summary)
			}
			if tt.changed && c.Summary[0] != "run: true" {
				t.Errorf("summary = %v", c.Summary)
			}
			if n := rec.reset(); n != tt.trips {
				t.Errorf("plan cost %d round trips, want %d", n, tt.trips)
			}
		})
	}
}

func TestShellApplyOutputAndChdirAndStdin(t *testing.T) {
	tg, _ := localTarget(t)
	dir := t.TempDir()
	m := newModule(t, "shell", map[string]any{"cmd": "pwd; cat | tr a-z A-Z", "chdir": dir, "stdin": "hello"})
	ctx := context.Background()
	c, _ := m.Plan(ctx, tg)
	c, err := m.Apply(ctx, tg, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(c.Output.Stdout); got != dir+"\nHELLO" {
		t.Errorf("stdout = %q", got)
	}
}

func TestCommandFailureNamesCommandAndStderr(t *testing.T) {
	tg, _ := localTarget(t)
	m := newModule(t, "shell", map[string]any{"cmd": "echo broken pipe >&2; exit 4"})
	_, err := m.Apply(context.Background(), tg, Change{})
	if err == nil || !strings.Contains(err.Error(), "exit 4") || !strings.Contains(err.Error(), "broken pipe") || !strings.Contains(err.Error(), "echo broken") {
		t.Fatalf("err = %v", err)
	}
}

func TestCommandIsNotAShell(t *testing.T) {
	tg, _ := localTarget(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	m := newModule(t, "command", map[string]any{"cmd": "echo '$HOME' > " + out})
	c, err := m.Apply(context.Background(), tg, Change{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(c.Output.Stdout); got != "$HOME > "+out+"\n" {
		t.Errorf("stdout = %q", got)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("command redirected like a shell")
	}
}
