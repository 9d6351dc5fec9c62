package modules

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostread"
	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// recordedRead reads a host's recorded answer to one of hostread's readers.
func recordedRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../hostread/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func recordedUfw(t *testing.T, status, added string) ufwState {
	t.Helper()
	return parseUfwRead(recordedUfwRead(t, status, added))
}

// recordedUfwRead is what ufw's reader prints on a host that answered
// status and added as the recorded files.
func recordedUfwRead(t *testing.T, status, added string) string {
	t.Helper()
	return "@@status\n" + recordedRead(t, status) + "@@added\n" + recordedRead(t, added) +
		"@@defaults\nIPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n"
}

// readCatcher answers every command with out and keeps the commands.
type readCatcher struct {
	executor.Executor
	out  string
	cmds []executor.Command
}

func (c *readCatcher) Run(_ context.Context, cmd executor.Command) (executor.Result, error) {
	c.cmds = append(c.cmds, cmd)
	return executor.Result{Stdout: []byte(c.out)}, nil
}

// Check mode leaves the host as it was: the ufw reader is told not to
// write its cache (hostread.ReadOnlyEnv); a real run's read may.
func TestUfwCheckModeReadWritesNoCache(t *testing.T) {
	for _, check := range []bool{false, true} {
		x := &readCatcher{out: recordedUfwRead(t, "ufw_status_inactive.txt", "ufw_show_added.txt")}
		tg := &Target{Exec: x, Facts: map[string]any{}}
		if check {
			predicting(tg)
		}
		if _, err := newModule(t, "ufw", map[string]any{"rules": []any{map[string]any{"port": 80}}}).Plan(context.Background(), tg); err != nil {
			t.Fatal(err)
		}
		if len(x.cmds) != 1 || x.cmds[0].Script != hostread.UFW.Script {
			t.Fatalf("check=%v: sent %d commands, want the ufw reader's", check, len(x.cmds))
		}
		if got := x.cmds[0].Env[hostread.ReadOnlyEnv]; (got == "1") != check {
			t.Errorf("check=%v: %s=%q", check, hostread.ReadOnlyEnv, got)
		}
	}
}

func TestUfwRuleTextMatchesRecordedOutput(t *testing.T) {
	st := recordedUfw(t, "ufw_status_inactive.txt", "ufw_show_added.txt")
	for i, item := range []map[string]any{
		{"port": 22, "from": "198.18.0.11"},
		{"port": "80"},
		{"port": 3306, "from": "198.18.0.0/24", "comment": "db clients"},
		{"port": 443},
		{"from": "203.0.113.5", "action": "deny"},
		{"port": 53, "proto": "any"},
		{"port": "8000:8010", "from": "198.18.0.12"},
		{"port": 2222, "action": "limit"},
	} {
		r, err := parseUfwRule(i, item)
		if err != nil {
			t.Fatal(err)
		}
		if r.text() != st.rules[i] {
			t.Errorf("rule %v renders %q, ufw printed %q", item, r.text(), st.rules[i])
		}
	}
	if r, _ := parseUfwRule(0, map[string]any{"port": 8080, "proto": "udp", "from": "2001:db8::/32"}); r.text() != st.rules[len(st.rules)-1] {
		t.Errorf("v6 rule %q vs %q", r.text(), st.rules[len(st.rules)-1])
	}
	if st.active || st.incoming != "deny" || st.outgoing != "allow" {
		t.Errorf("state %+v", st)
	}
}

func TestUfwPlanOrderAndPurge(t *testing.T) {
	st := recordedUfw(t, "ufw_status_inactive.txt", "ufw_show_added_2.txt")
	st.incoming = "allow"
	m := newModule(t, "ufw", map[string]any{
		"ssh_from": "198.18.0.1",
		"rules": []any{
			map[string]any{"port": 443, "comment": "https"},
			map[string]any{"port": 80, "from": "198.18.0.11"},
			map[string]any{"port": 53, "from": "198.18.0.5", "proto": "udp", "comment": "dns"},
		},
	}).(*ufwModule)
	got, err := m.plan(st)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ufw allow from 198.18.0.1 to any port 22 proto tcp",
		"ufw default deny incoming",
		"ufw allow from 198.18.0.11 to any port 80 proto tcp",
		"ufw delete allow from 198.18.0.11 to any port 22 proto tcp",
		"ufw delete deny from 203.0.113.5",
		"ufw delete allow 53",
		"ufw delete allow from 198.18.0.12 to any port 8000:8010 proto tcp",
		"ufw delete limit 2222/tcp",
		"ufw delete allow 8000:8010/tcp",
		"ufw delete allow from 198.18.0.5 to any port 53",
		"ufw delete allow from 198.18.0.0/24",
		"ufw delete allow 5353/udp",
		"ufw delete allow from 2001:db8::/32 to any port 8080 proto udp",
		"ufw --force enable",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	m.purge = false
	got, _ = m.plan(st)
	if len(got) != 4 || got[3] != "ufw --force enable" {
		t.Errorf("without purge: %v", got)
	}
}

func TestUfwActiveStatusDefaults(t *testing.T) {
	// ufw is never enabled on the controller, so this form is taken from
	// ufw's documentation rather than recorded.
	st := parseUfwRead("@@status\nStatus: active\nLogging: on (low)\nDefault: reject (incoming), allow (outgoing), disabled (routed)\nNew profiles: skip\n@@added\n@@defaults\n")
	if !st.active || st.incoming != "reject" || st.outgoing != "allow" {
		t.Errorf("%+v", st)
	}
}

func TestUfwArgs(t *testing.T) {
	spec, _ := Lookup("ufw")
	for name, rule := range map[string]map[string]any{
		"port 0":        {"port": 0},
		"port 70000":    {"port": 70000},
		"range any":     {"port": "1:2", "proto": "any"},
		"bad from":      {"port": 80, "from": "example.com"},
		"bad action":    {"port": 80, "action": "permit"},
		"quote comment": {"port": 80, "comment": "it's"},
		"everything":    {"action": "allow"},
		"unknown":       {"port": 80, "to": "any"},
	} {
		if _, err := spec.New(map[string]any{"rules": []any{rule}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUfwPlanOnThisHost(t *testing.T) {
	if _, err := exec.LookPath("ufw"); err != nil || os.Geteuid() != 0 {
		t.Skip("ufw not installed or not root")
	}
	tg, rec := localTarget(t)
	c, err := newModule(t, "ufw", map[string]any{"rules": []any{map[string]any{"port": 80}}}).Plan(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Changed || c.Summary[len(c.Summary)-1] != "ufw --force enable" {
		t.Errorf("summary %v", c.Summary)
	}
	if n := rec.reset(); n != 1 {
		t.Errorf("plan cost %d round trips", n)
	}
}

func TestUfwVRRPRule(t *testing.T) {
	r, err := parseUfwRule(0, map[string]any{"proto": "vrrp", "from": "198.18.0.12", "comment": "vrrp from lb-02"})
	if err != nil {
		t.Fatal(err)
	}
	// The form ufw 0.36 prints in `ufw show added` for `-p vrrp`.
	if got, want := r.text(), "allow from 198.18.0.12 proto vrrp comment 'vrrp from lb-02'"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	for _, bad := range []map[string]any{
		{"proto": "vrrp", "from": "any"},
		{"proto": "vrrp", "from": "198.18.0.12", "port": 112},
	} {
		if _, err := parseUfwRule(0, bad); err == nil {
			t.Errorf("rule %v accepted", bad)
		}
	}
}

// What a ufw task leaves is what the next plan finds: planning the same
// task against its own prediction changes nothing, for every recorded
// starting state, with and without purge.
func TestUfwPredictionIsWhatVerifyFinds(t *testing.T) {
	for _, added := range []string{"ufw_show_added.txt", "ufw_show_added_2.txt"} {
		st := recordedUfw(t, "ufw_status_inactive.txt", added)
		for _, purge := range []bool{true, false} {
			m := newModule(t, "ufw", map[string]any{
				"ssh_from": "198.18.0.1", "purge": purge, "default_incoming": "reject",
				"rules": []any{
					map[string]any{"port": 443, "comment": "https"},
					map[string]any{"port": 3306, "from": "198.18.0.0/24", "comment": "renamed"},
				},
			}).(*ufwModule)
			if left, err := m.plan(m.after(st)); err != nil || len(left) > 0 {
				t.Errorf("%s purge=%v: after the predicted apply, still %v %v", added, purge, left, err)
			}
		}
	}
}

// In check mode a second ufw task plans against the first one's result,
// with no read of the host.
func TestUfwPlanAgainstPrediction(t *testing.T) {
	tg, rec := localTarget(t)
	st := predicting(tg)
	ctx := context.Background()
	first := newModule(t, "ufw", map[string]any{"rules": []any{map[string]any{"port": 80}}}).(*ufwModule)
	first.predict(st, recordedUfw(t, "ufw_status_inactive.txt", "ufw_show_added.txt"))
	c, err := newModule(t, "ufw", map[string]any{"rules": []any{map[string]any{"port": 80}}}).Plan(ctx, tg)
	if err != nil || c.Changed {
		t.Errorf("the same rules again: %+v %v", c, err)
	}
	c, err = newModule(t, "ufw", map[string]any{"purge": false, "rules": []any{map[string]any{"port": 80}, map[string]any{"port": 8080}}}).Plan(ctx, tg)
	if err != nil || !reflect.DeepEqual(c.Summary, []string{"ufw allow 8080/tcp"}) {
		t.Errorf("one more rule: %+v %v", c, err)
	}
	if n := rec.reset(); n != 0 {
		t.Errorf("plans against the predicted firewall cost %d round trips", n)
	}
	var unknown *hoststate.UnknownError
	if _, err := tg.State.Stat(ctx, "/etc/ufw/user.rules", true); !errors.As(err, &unknown) {
		t.Errorf("ufw's rules file after a ufw task: %v, want unknown", err)
	}
	// Before any ufw task, a package install may bring or change ufw.
	fresh := hoststate.New()
	fresh.Touch(hoststate.Packages, "an earlier task installs ufw")
	tg.State = hoststate.NewOverlay(fresh, tg.Exec)
	if _, err := newModule(t, "ufw", map[string]any{}).Plan(ctx, tg); !errors.As(err, &unknown) {
		t.Errorf("ufw after a package install: %v, want unknown", err)
	}
}
