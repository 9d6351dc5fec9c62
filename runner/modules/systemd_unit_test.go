package modules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// unitSystemctl stands in for systemctl (the lab proves the real one):
// a unit is loaded once daemon-reload saw its file in $UNITS; every call
// is logged to $STATE/log.
const unitSystemctl = `#!/bin/sh
echo "$*" >> "$STATE/log"
for n; do :; done
case "$1" in
  daemon-reload) for f in "$UNITS"/*; do cp "$f" "$STATE/loaded-$(basename "$f")"; done ;;
  show) case "$*" in
    *UnitFileState*) l=not-found a=inactive u=
      if [ -e "$STATE/loaded-$n" ]; then l=loaded u=disabled; [ -e "$STATE/enabled-$n" ] && u=enabled; fi
      [ -e "$STATE/active-$n" ] && a=active
      printf 'Id=%s\nLoadState=%s\nActiveState=%s\nUnitFileState=%s\n' "$n" "$l" "$a" "$u" ;;
    *) if [ -e "$STATE/loaded-$n" ]; then echo loaded; else echo not-found; fi ;;
    esac ;;
  is-active) if [ -e "$STATE/active-$n" ]; then echo active; else echo inactive; exit 3; fi ;;
  is-enabled) if [ ! -e "$STATE/loaded-$n" ]; then exit 1; fi
    if [ -e "$STATE/enabled-$n" ]; then echo enabled; else echo disabled; exit 1; fi ;;
  enable) touch "$STATE/enabled-$n" ;;
  reset-failed) ;;
  start|restart) [ -e "$STATE/loaded-$n" ] || { echo "Unit $n not found." >&2; exit 5; }; touch "$STATE/active-$n" ;;
  stop) rm -f "$STATE/active-$n" ;;
  *) echo "fake systemctl: $*" >&2; exit 1 ;;
esac
`

func unitTarget(t *testing.T) (*Target, *recorder, string, string) {
	t.Helper()
	bin, state, units := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(bin, "systemctl"), []byte(unitSystemctl), 0o755)
	tg, rec, _ := sshTarget(t, sshtest.WithPath(bin), sshtest.WithEnv("STATE="+state, "UNITS="+units))
	tg.Facts["init"] = "systemd"
	return tg, rec, state, units
}

func readLog(t *testing.T, state string) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(state, "log"))
	_ = os.Remove(filepath.Join(state, "log"))
	return string(b)
}

const helloUnit = "[Unit]\nDescription=hello\n[Service]\nExecStart=/opt/hello/current/hello\n[Install]\nWantedBy=multi-user.target\n"

// A new unit is written, systemd reloaded, then enabled and started, all
// planned from one read; unchanged, nothing runs; a changed file reloads
// systemd again but does not restart a running unit.
func TestSystemdUnitConverges(t *testing.T) {
	tg, rec, state, units := unitTarget(t)
	args := map[string]any{"name": "hello", "content": helloUnit, "path": filepath.Join(units, "hello.service"),
		"enabled": true, "state": "started"}
	c := convergeIn(t, tg, rec, "systemd_unit", args, 2)
	want := []string{"create " + filepath.Join(units, "hello.service") + " (0644)", "systemctl daemon-reload", "enable hello.service", "start hello.service"}
	if strings.Join(c.Summary, "|") != strings.Join(want, "|") {
		t.Errorf("summary %q, want %q", c.Summary, want)
	}
	if !strings.Contains(c.Diff, "+ExecStart=/opt/hello/current/hello") {
		t.Errorf("diff %q", c.Diff)
	}
	log := readLog(t, state)
	if !strings.Contains(log, "daemon-reload\n") || !strings.Contains(log, "enable -- hello.service\n") || !strings.Contains(log, "start -- hello.service\n") {
		t.Errorf("systemctl calls:\n%s", log)
	}
	// The converge's no-op plan ran no daemon-reload, enable or start.
	converge2 := newModule(t, "systemd_unit", args)
	if c, err := converge2.Plan(context.Background(), tg); err != nil || c.Changed {
		t.Fatalf("again: %+v %v", c, err)
	}
	if log := readLog(t, state); strings.Contains(log, "daemon-reload") || strings.Contains(log, "start --") {
		t.Errorf("a no-op plan ran %q", log)
	}
	// A changed file: reload, no restart.
	args["content"] = strings.Replace(helloUnit, "hello\n[Service]", "hello 2\n[Service]", 1)
	c = convergeIn(t, tg, rec, "systemd_unit", args, 2)
	if strings.Join(c.Summary, "|") != "update "+filepath.Join(units, "hello.service")+"|systemctl daemon-reload" {
		t.Errorf("summary of a changed file: %q", c.Summary)
	}
	if log := readLog(t, state); strings.Contains(log, "restart --") || !strings.Contains(log, "daemon-reload") {
		t.Errorf("calls after a changed file: %q", log)
	}
	// restarted always restarts; stopped stops.
	args["state"] = "restarted"
	if c, err := newModule(t, "systemd_unit", args).Plan(context.Background(), tg); err != nil || strings.Join(c.Summary, "|") != "restart hello.service" {
		t.Errorf("restarted: %+v %v", c, err)
	}
	args["state"] = "stopped"
	convergeIn(t, tg, rec, "systemd_unit", args, 2)
}

// In check mode a new unit is planned as systemd sees it after the
// reload, and the prediction makes a later service task exact.
func TestSystemdUnitCheckMode(t *testing.T) {
	tg, _, state, units := unitTarget(t)
	st := predicting(tg)
	ctx := context.Background()
	file := filepath.Join(units, "hello.service")
	args := map[string]any{"name": "hello.service", "content": helloUnit, "path": file, "enabled": true, "state": "started"}
	c, err := newModule(t, "systemd_unit", args).Plan(ctx, tg)
	if err != nil || !c.Changed || strings.Join(c.Summary[1:], "|") != "systemctl daemon-reload|enable hello.service|start hello.service" {
		t.Fatalf("check plan: %+v %v", c, err)
	}
	c.Predict(st)
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Error("check mode wrote the unit")
	}
	if log := readLog(t, state); strings.Contains(log, "daemon-reload") || strings.Contains(log, "start --") || strings.Contains(log, "enable --") {
		t.Errorf("check mode ran %q", log)
	}
	// The same task against the prediction: nothing left.
	if again, err := newModule(t, "systemd_unit", args).Plan(ctx, tg); err != nil || again.Changed {
		t.Errorf("planned against its own prediction: %+v %v", again, err)
	}
	// A later service task reads the predicted unit.
	sc, err := newModule(t, "service", map[string]any{"name": "hello.service", "state": "restarted"}).Plan(ctx, tg)
	if err != nil || strings.Join(sc.Summary, "|") != "restart hello.service" {
		t.Errorf("service after it: %+v %v", sc, err)
	}
	// A unit that is not there and no file: the plan fails as the run would.
	if _, err := newModule(t, "systemd_unit", map[string]any{"name": "nope", "state": "started"}).Plan(ctx, tg); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("missing unit: %v", err)
	}
}

func TestSystemdUnitArgs(t *testing.T) {
	spec, _ := Lookup("systemd_unit")
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "hello"}, "give content or src"},
		{map[string]any{"name": "bad name", "state": "started"}, "not a unit name"},
		{map[string]any{"name": "hello.conf", "state": "started"}, "not a unit name"},
		{map[string]any{"name": "hello", "content": "x", "path": "/etc/systemd/system/other.service"}, "ending in the unit's name"},
		{map[string]any{"name": "hello", "state": "running"}, "not one of"},
		{map[string]any{"name": "hello", "content": "x", "mode": "644x"}, "octal mode"},
		{map[string]any{"name": "hello", "src": "x.tmpl"}, "unknown argument"},
	} {
		_, err := spec.New(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
