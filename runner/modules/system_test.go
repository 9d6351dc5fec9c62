package modules

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/hostread"
)

func TestSysctlPersistsCurrentValue(t *testing.T) {
	// The live value is left as it is (this must not change the controller's
	// kernel): only the file in a temp dir is written.
	val := liveSwappiness(t)
	tg, rec := localTarget(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "99-ferry.conf")
	writeFile(t, file, []byte("# ferry\nvm.swappiness=1\nnet.ipv4.ip_forward = 1\n"), 0o644)
	c := converge(t, tg, rec, "sysctl", map[string]any{"name": "vm.swappiness", "value": val, "file": file})
	if len(c.Summary) != 1 || !strings.HasPrefix(c.Summary[0], "persist vm.swappiness") {
		t.Errorf("summary = %v", c.Summary)
	}
	got, _ := os.ReadFile(file)
	if want := "# ferry\nvm.swappiness = " + val + "\nnet.ipv4.ip_forward = 1\n"; string(got) != want {
		t.Errorf("file = %q, want %q", got, want)
	}
}

func TestSysctlPlanReportsLiveChange(t *testing.T) {
	tg, _ := localTarget(t)
	m := newModule(t, "sysctl", map[string]any{"name": "vm.swappiness", "value": "101", "file": filepath.Join(t.TempDir(), "f.conf")})
	c, err := m.Plan(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Changed || !strings.HasPrefix(c.Summary[0], "sysctl -w vm.swappiness=101 (was ") {
		t.Errorf("summary = %v", c.Summary)
	}
	if _, err := newModule(t, "sysctl", map[string]any{"name": "no.such_key", "value": "1"}).Plan(context.Background(), tg); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestParseSysctlRead(t *testing.T) {
	st := parseSysctlRead("@@value\n4096\t131072\t6291456\n@@file\npresent\na = 1\n")
	if st.value != "4096 131072 6291456" || !st.fileExists || st.file != "a = 1\n" || st.unknown {
		t.Errorf("%+v", st)
	}
	st = parseSysctlRead("@@value\nsysctl: cannot stat /proc/sys/x/y: No such file or directory\n@@unknown\n@@file\n")
	if !st.unknown || st.fileExists {
		t.Errorf("%+v", st)
	}
}

func TestServicePlanner(t *testing.T) {
	yes, no := true, false
	for _, tt := range []struct {
		out     string
		state   string
		enabled *bool
		want    []string
	}{
		{"load=loaded\nactive=active\nenabled=enabled\n", "started", &yes, nil},
		{"load=loaded\nactive=inactive\nenabled=disabled\n", "started", &yes, []string{"enable", "start"}},
		{"load=loaded\nactive=failed\nenabled=masked\n", "started", &yes, []string{"unmask", "enable", "start"}},
		{"load=loaded\nactive=active\nenabled=static\n", "stopped", &no, []string{"stop"}},
		{"load=loaded\nactive=active\nenabled=enabled\n", "restarted", nil, []string{"restart"}},
		{"load=loaded\nactive=active\nenabled=enabled\n", "reloaded", nil, []string{"reload"}},
		{"load=loaded\nactive=inactive\nenabled=enabled\n", "reloaded", nil, []string{"start"}},
		{"load=not-found\nactive=inactive\nenabled=\n", "started", &yes, []string{"enable", "start"}},
		{"load=not-found\nactive=inactive\nenabled=\n", "stopped", &no, nil},
	} {
		got := planService(hostread.ParseService(tt.out), tt.state, tt.enabled)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q %s: got %v, want %v", tt.out, tt.state, got, tt.want)
		}
	}
}

func TestServiceScripts(t *testing.T) {
	m := &serviceModule{name: "nginx", actions: []string{"enable", "start"}}
	if got := m.script(); got != "set -e\nsystemctl enable -- nginx\nsystemctl reset-failed -- nginx 2>/dev/null || true\nsystemctl start -- nginx\n" {
		t.Errorf("systemd script = %q", got)
	}
	m.sysv = true
	if got := m.script(); !strings.Contains(got, "update-rc.d nginx defaults") || !strings.Contains(got, "service nginx start") {
		t.Errorf("sysv script = %q", got)
	}
}

// TestServiceReadOnThisHost runs the real read script against a unit that
// does not exist: it must plan, not fail, and change nothing.
func TestServiceReadOnThisHost(t *testing.T) {
	tg, rec := localTarget(t)
	tg.Facts["init"] = "sysvinit"
	c, err := newModule(t, "service", map[string]any{"name": "ferry-no-such-service", "state": "started"}).Plan(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Changed || c.Summary[0] != "start ferry-no-such-service (not installed yet)" {
		t.Errorf("change = %+v", c)
	}
	if n := rec.reset(); n != 1 {
		t.Errorf("plan cost %d round trips", n)
	}
}

func TestPackagePlanner(t *testing.T) {
	b, err := os.ReadFile("testdata/recorded/apt_read.txt")
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseAptRead(string(b))
	if err != nil {
		t.Fatal(err)
	}
	// Recorded on a Debian 12 lab host: socat can be installed, a purely
	// virtual package (mail-transport-agent) and an unknown name cannot.
	if !st.installed["bash"] || st.installed["nonexistent-pkg-xyz"] || !st.known["socat"] || st.known["bash"] ||
		st.known["nonexistent-pkg-xyz"] || st.known["mail-transport-agent"] {
		t.Fatalf("parsed %+v", st)
	}
	for _, tt := range []struct {
		names   []string
		state   string
		age     int
		summary []string
	}{
		{[]string{"bash", "nginx"}, "present", 1 << 20, nil},
		{[]string{"bash", "socat"}, "present", 10, []string{"install socat"}},
		{[]string{"mail-transport-agent"}, "present", 10, []string{"apt-get update", "install mail-transport-agent"}},
		{[]string{"bash", "nonexistent-pkg-xyz"}, "present", 10, []string{"apt-get update", "install nonexistent-pkg-xyz"}},
		{[]string{"bash", "nginx"}, "absent", 1 << 20, []string{"remove bash, nginx"}},
	} {
		st.age = tt.age
		m := &packageModule{names: tt.names, state: tt.state, cacheTime: 3600, mgr: "apt"}
		m.plan(st)
		if got := m.change().Summary; !reflect.DeepEqual(got, tt.summary) {
			t.Errorf("%v %s: summary %v, want %v", tt.names, tt.state, got, tt.summary)
		}
	}
	// A known package in a fresh cache needs no update; a stale cache does.
	st.installed["curl-x"], st.known["curl-y"] = false, true
	m := &packageModule{names: []string{"curl-y"}, state: "present", cacheTime: 3600, mgr: "apt"}
	st.age = 100
	m.plan(st)
	if m.update {
		t.Error("fresh cache updated")
	}
	st.age = 4000
	m.plan(st)
	if !m.update {
		t.Error("stale cache not updated")
	}
	script, env := m.script()
	if env["DEBIAN_FRONTEND"] != "noninteractive" || !strings.Contains(script, "apt-get update") || strings.Count(script, "apt-get install") != 1 {
		t.Errorf("script %q env %v", script, env)
	}
}

func TestPackagePlanOnThisHost(t *testing.T) {
	tg, rec := localTarget(t)
	tg.Facts["pkg_mgr"] = "apt"
	c, err := newModule(t, "package", map[string]any{"names": []any{"coreutils", "bash"}}).Plan(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Changed {
		t.Errorf("installed packages planned: %v", c.Summary)
	}
	if n := rec.reset(); n != 1 {
		t.Errorf("plan cost %d round trips", n)
	}
	tg.Facts["pkg_mgr"] = ""
	if _, err := newModule(t, "package", map[string]any{"names": "bash"}).Plan(context.Background(), tg); err == nil {
		t.Error("no pkg_mgr fact accepted")
	}
}

func TestUserPlanner(t *testing.T) {
	key1 := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZlcnJ5 admin@ferry"
	key2 := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNlY29uZA deploy"
	out := "@@passwd\ndeploy:x:1001:1001::/home/deploy:/bin/sh\n@@group\ndeploy\n@@groups\ndeploy adm\n@@keys\n" +
		"from=\"198.18.0.0/24\" " + strings.Replace(key1, "admin@ferry", "old-comment", 1) + "\n"
	st, err := parseUserRead(out)
	if err != nil {
		t.Fatal(err)
	}
	if !st.exists || st.uid != 1001 || st.shell != "/bin/sh" || !reflect.DeepEqual(st.groups, []string{"adm"}) {
		t.Fatalf("%+v", st)
	}
	m := newModule(t, "user", map[string]any{"name": "deploy", "shell": "/bin/bash", "groups": []any{"sudo", "adm"}, "authorized_keys": []any{key1, key2}})
	sum, script := m.(*userModule).plan(st)
	want := []string{"set groups of deploy to [adm,sudo] (was [adm])", "set shell of deploy to /bin/bash (was /bin/sh)", "add 1 authorized key(s) for deploy"}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("summary %q", sum)
	}
	if !strings.Contains(script, "usermod -G adm,sudo -s /bin/bash deploy") || strings.Contains(script, "GZlcnJ5") || !strings.Contains(script, "IHNlY29uZA") {
		t.Errorf("script %s", script)
	}
	if sum, _ := m.(*userModule).plan(userState{}); sum[0] != "create user deploy" {
		t.Errorf("missing user: %v", sum)
	}
}

func TestUserAndGroupReadOnThisHost(t *testing.T) {
	tg, rec := localTarget(t)
	c, err := newModule(t, "user", map[string]any{"name": "root", "home": "/root"}).Plan(context.Background(), tg)
	if err != nil || c.Changed {
		t.Errorf("root user: %+v %v", c, err)
	}
	c, err = newModule(t, "group", map[string]any{"name": "root", "gid": 0}).Plan(context.Background(), tg)
	if err != nil || c.Changed {
		t.Errorf("root group: %+v %v", c, err)
	}
	c, err = newModule(t, "group", map[string]any{"name": "ferry-no-such-group", "system": true}).Plan(context.Background(), tg)
	if err != nil || !c.Changed || c.Summary[0] != "create group ferry-no-such-group" {
		t.Errorf("missing group: %+v %v", c, err)
	}
	if n := rec.reset(); n != 3 {
		t.Errorf("3 plans cost %d round trips", n)
	}
}
