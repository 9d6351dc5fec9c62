package modules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// In check mode a package an earlier task installs is installed for the
// tasks after it, and a package no task names is unknown from then on.
func TestPackagePlanAgainstPrediction(t *testing.T) {
	tg, _ := localTarget(t)
	tg.Facts["pkg_mgr"] = "apt"
	st := hoststate.New()
	tg.State = hoststate.NewOverlay(st, tg.Exec)
	ctx := context.Background()
	const missing = "ferry-check-no-such-package"
	first, err := newModule(t, "package", map[string]any{"names": []any{missing}}).Plan(ctx, tg)
	if err != nil || !first.Changed || first.Predict == nil {
		t.Fatalf("first install: %+v, %v", first, err)
	}
	if again, err := newModule(t, "package", map[string]any{"names": []any{missing}}).Plan(ctx, tg); err != nil || !again.Changed {
		t.Fatalf("before the prediction, the same install plans again: %+v, %v", again, err)
	}
	first.Predict(st)
	again, err := newModule(t, "package", map[string]any{"names": []any{missing}}).Plan(ctx, tg)
	if err != nil || again.Changed {
		t.Fatalf("a package an earlier task installs is planned again: %+v, %v", again, err)
	}
	_, err = newModule(t, "package", map[string]any{"names": []any{"bash"}}).Plan(ctx, tg)
	var unknown *hoststate.UnknownError
	if !errors.As(err, &unknown) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("a package no task names after an install: %v, want unknown naming the install", err)
	}
	// And a file the host does not have may come with the package.
	if _, err := tg.State.Stat(ctx, "/etc/ferry-check-no-such-file", false); !errors.As(err, &unknown) {
		t.Fatalf("missing file after a package install: %v, want unknown", err)
	}
}

// A service check mode predicts is planned from the prediction; one whose
// unit an earlier task writes is unknown; one that is not installed fails
// as the real run would.
func TestServicePlanAgainstPrediction(t *testing.T) {
	tg, _ := localTarget(t)
	st := hoststate.New()
	tg.State = hoststate.NewOverlay(st, tg.Exec)
	ctx := context.Background()
	st.SetFact("service", "ferry-check-svc", serviceState{Loaded: true, Active: "inactive", Enabled: "disabled"}.String())
	c, err := newModule(t, "service", map[string]any{"name": "ferry-check-svc", "state": "started", "enabled": true}).Plan(ctx, tg)
	if err != nil || !c.Changed || strings.Join(c.Summary, ",") != "enable ferry-check-svc,start ferry-check-svc" {
		t.Fatalf("plan from a predicted stopped service: %+v %v", c, err)
	}
	c.Predict(st)
	if c, err := newModule(t, "service", map[string]any{"name": "ferry-check-svc", "state": "reloaded"}).Plan(ctx, tg); err != nil || strings.Join(c.Summary, ",") != "reload ferry-check-svc" {
		t.Fatalf("reload after a predicted start: %+v %v", c, err)
	}
	if _, err := newModule(t, "service", map[string]any{"name": "ferry-check-nothing", "state": "started"}).Plan(ctx, tg); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("a service that does not exist: %v, want not installed", err)
	}
	st.Set("/etc/systemd/system/ferry-check-nothing.service", hoststate.Entry{Kind: hoststate.File, Content: []byte("[Service]\n")})
	_, err = newModule(t, "service", map[string]any{"name": "ferry-check-nothing", "state": "started"}).Plan(ctx, tg)
	var unknown *hoststate.UnknownError
	if !errors.As(err, &unknown) {
		t.Fatalf("a service whose unit an earlier task writes: %v, want unknown", err)
	}
}

// Two sysctl tasks sharing one file: in check mode the second one plans
// against the file as the first one writes it, as the real run does.
func TestSysctlPlanAgainstPrediction(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/vm/swappiness")
	if err != nil {
		t.Skip("no /proc/sys/vm/swappiness on this machine")
	}
	val := strings.TrimSpace(string(b))
	tg, _ := localTarget(t)
	st := hoststate.New()
	tg.State = hoststate.NewOverlay(st, tg.Exec)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "99-ferry.conf")
	first, err := newModule(t, "sysctl", map[string]any{"name": "vm.swappiness", "value": val, "file": file}).Plan(ctx, tg)
	if err != nil || !first.Changed {
		t.Fatalf("first: %+v %v", first, err)
	}
	first.Predict(st)
	second, err := newModule(t, "sysctl", map[string]any{"name": "vm.swappiness", "value": "7", "file": file}).Plan(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if want := "sysctl -w vm.swappiness=7 (was " + val + ")"; len(second.Summary) == 0 || second.Summary[0] != want {
		t.Errorf("second summary = %v, want %q first", second.Summary, want)
	}
	if !strings.Contains(second.Diff, "-vm.swappiness = "+val) || !strings.Contains(second.Diff, "+vm.swappiness = 7") {
		t.Errorf("second diff is not against the first task's file:\n%s", second.Diff)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("planning wrote %s", file)
	}
}
