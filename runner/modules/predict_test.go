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
	st := predicting(tg)
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
	st := predicting(tg)
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
	val := liveSwappiness(t)
	tg, _ := localTarget(t)
	st := predicting(tg)
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

// A user an earlier task creates or changes is planned from the
// prediction, with no read of the host; what useradd picks by itself (a
// uid, the home, a group of the user's name) is unknown.
func TestUserPlanAgainstPrediction(t *testing.T) {
	tg, rec := localTarget(t)
	st := predicting(tg)
	ctx := context.Background()
	const name = "ferry-check-no-such-user"
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZlcnJ5 admin@ferry"
	plan := func(args map[string]any) (Change, error) {
		args["name"] = name
		return newModule(t, "user", args).Plan(ctx, tg)
	}
	first, err := plan(map[string]any{"shell": "/bin/sh", "home": "/srv/" + name, "authorized_keys": []any{key}})
	if err != nil || !first.Changed || first.Predict == nil {
		t.Fatalf("create: %+v, %v", first, err)
	}
	first.Predict(st)
	rec.reset()
	var unknown *hoststate.UnknownError
	for _, tc := range []struct {
		args map[string]any
		want string // summary, or "unknown"
	}{
		{map[string]any{"shell": "/bin/sh", "home": "/srv/" + name, "authorized_keys": []any{key}}, ""},
		{map[string]any{"shell": "/bin/bash"}, "set shell of " + name + " to /bin/bash (was /bin/sh)"},
		{map[string]any{"groups": []any{}}, ""},
		{map[string]any{"groups": []any{"adm"}}, "set groups of " + name + " to [adm] (was [])"},
		{map[string]any{"uid": 2000}, "unknown"},
		{map[string]any{"group": "adm"}, "unknown"},
	} {
		c, err := plan(tc.args)
		switch {
		case tc.want == "unknown":
			if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "useradd picks it") {
				t.Errorf("%v: %+v %v, want unknown", tc.args, c, err)
			}
		case err != nil || strings.Join(c.Summary, ",") != tc.want:
			t.Errorf("%v: %q %v, want %q", tc.args, c.Summary, err, tc.want)
		}
	}
	if n := rec.reset(); n != 0 {
		t.Errorf("plans against a predicted user cost %d round trips", n)
	}
	// useradd may create a group of the user's name; its home is unknown.
	if _, err := newModule(t, "group", map[string]any{"name": name}).Plan(ctx, tg); !errors.As(err, &unknown) {
		t.Errorf("group of the new user's name: %v, want unknown", err)
	}
	if _, err := tg.State.Stat(ctx, "/srv/"+name+"/.ssh/authorized_keys", false); !errors.As(err, &unknown) {
		t.Errorf("a file in the new user's home: %v, want unknown", err)
	}
	// Other groups are still planned against the host.
	if c, err := newModule(t, "group", map[string]any{"name": "root", "gid": 0}).Plan(ctx, tg); err != nil || c.Changed {
		t.Errorf("another group: %+v %v", c, err)
	}
	// Removed: the next task plans its creation again.
	gone, err := plan(map[string]any{"state": "absent"})
	if err != nil || !gone.Changed {
		t.Fatalf("remove: %+v %v", gone, err)
	}
	gone.Predict(st)
	if c, err := plan(map[string]any{"state": "absent"}); err != nil || c.Changed {
		t.Errorf("remove again: %+v %v", c, err)
	}
	if c, err := plan(map[string]any{}); err != nil || !c.Changed || c.Summary[0] != "create user "+name {
		t.Errorf("create after remove: %+v %v", c, err)
	}
}

// An existing account changed by an earlier task keeps what the task does
// not change, as the host reports it.
func TestUserChangePredicted(t *testing.T) {
	tg, _ := localTarget(t)
	st := predicting(tg)
	ctx := context.Background()
	c, err := newModule(t, "user", map[string]any{"name": "root", "shell": "/bin/ferry-check-shell"}).Plan(ctx, tg)
	if err != nil || !c.Changed {
		t.Fatalf("change root's shell: %+v %v", c, err)
	}
	c.Predict(st)
	for _, args := range []map[string]any{
		{"name": "root", "shell": "/bin/ferry-check-shell"},
		{"name": "root", "uid": 0, "home": "/root"},
	} {
		if c, err := newModule(t, "user", args).Plan(ctx, tg); err != nil || c.Changed {
			t.Errorf("%v after the change: %+v %v", args, c, err)
		}
	}
}
