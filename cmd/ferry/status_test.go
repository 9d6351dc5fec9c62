package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/health"
	"github.com/ferry-deploy/ferry/internal/testfs"
	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// statusFixture reads a recorded tool output: the readers' recordings
// (runner/hostread) or the roles' (roles/support, Prometheus).
var statusFixture = testfs.ReadFrom("../../runner/hostread/testdata", "../../roles/support/testdata")

// --- the command, against in-process SSH hosts with stand-in tools ---------

// fakeHost is one host's stand-in tools: file name -> output, for
// systemctl, ip, socat (HAProxy's runtime API), mysql and curl
// (Prometheus). A tool with no entry does not exist on the host, so the
// status script skips its section; haproxy and prometheus exist when
// socat and curl do.
type fakeHost map[string]string

// newStatusEnv starts one SSH server per host (PATH holds only the
// stand-ins and the tools sshx itself needs) and writes an inventory
// naming them, plus an unreachable host when down is set.
func newStatusEnv(t *testing.T, hosts map[string]fakeHost, down bool) (inv string, servers map[string]*sshtest.Server) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	f := sshtest.NewFleet(t, nil)
	dir := f.Dir
	port := map[string]int{}
	for name, tools := range hosts {
		bin := t.TempDir()
		// sshx's bootstrap needs dd; its output framing mktemp, rm and cat.
		for _, tool := range []string{"dd", "mktemp", "rm", "cat"} {
			if err := os.Symlink("/bin/"+tool, filepath.Join(bin, tool)); err != nil {
				t.Fatal(err)
			}
		}
		for tool, out := range tools {
			data := filepath.Join(dir, name+"-"+tool+".out")
			if err := os.WriteFile(data, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			script := "#!/bin/sh\n"
			if tool == "socat" {
				// The runtime API reads its command on stdin.
				script += `read -r cmd; [ "$cmd" = "show stat" ] || { echo "unexpected: $cmd" >&2; exit 9; }` + "\n"
			}
			script += "exec /bin/cat " + data + "\n"
			writeExec(t, filepath.Join(bin, tool), script)
		}
		if _, ok := tools["socat"]; ok {
			writeExec(t, filepath.Join(bin, "haproxy"), "#!/bin/sh\nexit 0\n")
		}
		if _, ok := tools["curl"]; ok {
			writeExec(t, filepath.Join(bin, "prometheus"), "#!/bin/sh\nexit 0\n")
		}
		port[name] = f.Start(name, sshtest.WithEnv("PATH="+bin)).Port
	}
	var yml strings.Builder
	yml.WriteString(f.Connection("deploy", 5*time.Second))
	yml.WriteString("vars: {virtual_address: 198.18.0.10}\ngroups:\n")
	group := func(g string, names ...string) {
		yml.WriteString("  " + g + ":\n    hosts:\n")
		for _, n := range names {
			if _, ok := port[n]; !ok {
				continue
			}
			yml.WriteString("      " + n + ": {address: 127.0.0.1, port: " + strconv.Itoa(port[n]))
			if g == "db" {
				yml.WriteString(", vars: {mysql_role: replica}")
			}
			yml.WriteString("}\n")
		}
	}
	group("lb", "lb-01", "lb-02")
	group("db", "db-02")
	group("monitor", "monitor-01")
	if down {
		yml.WriteString("  web:\n    hosts:\n      web-01: {address: 127.0.0.1, port: " + strconv.Itoa(sshtest.ClosedPort(t)) + "}\n")
	}
	inv = filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inv, []byte(yml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return inv, f.Servers
}

func writeExec(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// ferry-lb-handover status lines (the keepalived role's script).
const (
	lbHolding = "state=MASTER holds=yes serves=yes maintenance=0 haproxy_down=0\n"
	lbStandby = "state=BACKUP holds=no serves=yes maintenance=0 haproxy_down=0\n"
)

// healthyStack is the lab's stack as status sees it when all is well:
// lb-01 holds the floating address, every backend server is UP, db-02
// replicates, no alert is active.
func healthyStack(t *testing.T) map[string]fakeHost {
	allUp := strings.NewReplacer(",DOWN,", ",UP,", ",MAINT,", ",UP,", "L4CON", "L7OK").Replace(statusFixture(t, "haproxy-show-stat.csv"))
	lbUnits := statusFixture(t, "systemctl-show-lb.txt")
	unit := func(name, state string) string {
		return "Id=" + name + ".service\nLoadState=loaded\nActiveState=" + state + "\n\n"
	}
	return map[string]fakeHost{
		"lb-01":      {"systemctl": lbUnits, "ip": statusFixture(t, "ip-addr-vip.txt"), "socat": allUp, "ferry-lb-handover": lbHolding},
		"lb-02":      {"systemctl": lbUnits, "ip": statusFixture(t, "ip-addr-novip.txt"), "socat": allUp, "ferry-lb-handover": lbStandby},
		"db-02":      {"systemctl": unit("mariadb", "active") + unit("mariadb", "active"), "ip": statusFixture(t, "ip-addr-controller.txt"), "mysql": statusFixture(t, "show-slave-status-ok.txt")},
		"monitor-01": {"systemctl": unit("prometheus", "active"), "ip": statusFixture(t, "ip-addr-controller.txt"), "curl": statusFixture(t, "prometheus-alerts-none.json")},
	}
}

// statusRows parses the human table into host|check|status rows.
func statusRows(t *testing.T, out string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	lines := strings.Split(out, "\n")
	if !regexp.MustCompile(`^HOST +CHECK +STATUS +DETAIL$`).MatchString(lines[0]) {
		t.Fatalf("no header:\n%s", out)
	}
	cols := regexp.MustCompile(`^(\S+) +(\S+(?: \S+)?) +(ok|warn|fail|unreachable)(?: +(.*))?$`)
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		m := cols.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("row %q does not parse", l)
		}
		rows[m[1]+"|"+m[2]] = m[3] + "|" + m[4]
	}
	return rows
}

func TestStatusHealthy(t *testing.T) {
	inv, servers := newStatusEnv(t, healthyStack(t), false)
	out, code := ferry(t, "status", "-i", inv)
	if code != exitOK {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	rows := statusRows(t, out)
	for key, want := range map[string]string{
		"lb-01|ssh":                     "ok|reachable",
		"lb-01|service haproxy":         "ok|active",
		"lb-02|service keepalived":      "ok|active",
		"lb-02|backend web/web-02":      "ok|UP (L7OK)",
		"db-02|service mariadb":         "ok|active",
		"db-02|replication":             "ok|from 198.18.0.31: io Yes, sql Yes, lag 0 s",
		"monitor-01|service prometheus": "ok|active",
		"monitor-01|prometheus alerts":  "ok|none active",
		"lb-01|vip 198.18.0.10":         "ok|held by lb-01; ready to take it: lb-02",
		"lb-01|failover":                "ok|master, ready",
		"lb-02|failover":                "ok|backup, ready",
	} {
		if rows[key] != want {
			t.Errorf("%s: %q, want %q", key, rows[key], want)
		}
	}
	if _, ok := rows["lb-01|service nginx"]; ok {
		t.Error("a service that is not installed is listed")
	}
	if !strings.HasSuffix(out, "\nhealthy: 23 ok, 0 warn, 0 fail, 0 unreachable\n") {
		t.Errorf("summary:\n%s", out)
	}
	// One round trip per host.
	for name, srv := range servers {
		if n := len(srv.Commands()); n != 1 {
			t.Errorf("%s: %d commands, want 1", name, n)
		}
	}
}

func TestStatusUnhealthyJSON(t *testing.T) {
	stack := healthyStack(t)
	stack["lb-01"]["socat"] = statusFixture(t, "haproxy-show-stat.csv") // web-02 DOWN, web-03 MAINT
	stack["db-02"]["mysql"] = statusFixture(t, "show-slave-status-io-down.txt")
	stack["monitor-01"]["curl"] = statusFixture(t, "prometheus-alerts.json")
	stack["lb-02"]["ip"] = statusFixture(t, "ip-addr-vip.txt") // both hold the address
	inv, _ := newStatusEnv(t, stack, false)
	out, code := ferry(t, "status", "-i", inv, "--output", "json")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d; output:\n%s", code, exitFailed, out)
	}
	got := map[string]string{}
	var summary map[string]any
	for _, ev := range jsonLines(t, out) {
		switch ev["event"] {
		case "check":
			got[ev["host"].(string)+"|"+ev["check"].(string)] = ev["status"].(string)
		case "summary":
			summary = ev
		default:
			t.Errorf("event %v", ev["event"])
		}
	}
	for key, want := range map[string]string{
		"lb-01|backend web/web-01":    health.OK,
		"lb-01|backend web/web-02":    health.Fail,
		"lb-01|backend web/web-03":    health.Warn,
		"lb-02|backend web/web-02":    health.OK,
		"db-02|replication":           health.Fail,
		"monitor-01|alert HostDown":   health.Fail,
		"monitor-01|alert TargetDown": health.Warn,
		"-|vip 198.18.0.10":           health.Fail,
	} {
		if got[key] != want {
			t.Errorf("%s: %q, want %q (all: %v)", key, got[key], want, got)
		}
	}
	if summary == nil || summary["healthy"] != false || summary["fail"].(float64) != 4 || summary["warn"].(float64) != 2 {
		t.Errorf("summary: %v", summary)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), "}") || !strings.Contains(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:], `"event":"summary"`) {
		t.Errorf("the summary is not the last line:\n%s", out)
	}
}

func TestStatusUnreachableAndNoHolder(t *testing.T) {
	stack := healthyStack(t)
	stack["lb-01"]["ip"] = statusFixture(t, "ip-addr-novip.txt")
	inv, _ := newStatusEnv(t, stack, true)
	out, code := ferry(t, "status", "-i", inv)
	if code != exitUnreachable {
		t.Fatalf("exit %d, want %d; output:\n%s", code, exitUnreachable, out)
	}
	rows := statusRows(t, out)
	if r := rows["web-01|ssh"]; !strings.HasPrefix(r, "unreachable|refused: ") {
		t.Errorf("web-01: %q", r)
	}
	if r := rows["-|vip 198.18.0.10"]; r != "fail|held by no reachable host" {
		t.Errorf("vip: %q", r)
	}
}

// TestStatusStandby: the floating address row says whether the other load
// balancer can take the address; a standby whose HAProxy stopped fails its
// failover row, one in maintenance warns.
func TestStatusStandby(t *testing.T) {
	for _, tc := range []struct {
		name, lb02, row, vip string
		code                 int
	}{
		{"haproxy stopped", "state=FAULT holds=no serves=no maintenance=0 haproxy_down=1\n",
			"fail|keepalived FAULT, haproxy stopped, does not serve the site",
			"warn|held by lb-01; no other load balancer ready: lb-02 (keepalived FAULT, haproxy stopped, does not serve the site)", exitFailed},
		{"maintenance", "state=FAULT holds=no serves=yes maintenance=1 haproxy_down=0\n",
			"warn|keepalived FAULT, in maintenance",
			"warn|held by lb-01; no other load balancer ready: lb-02 (keepalived FAULT, in maintenance)", exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := healthyStack(t)
			stack["lb-02"]["ferry-lb-handover"] = tc.lb02
			inv, _ := newStatusEnv(t, stack, false)
			out, code := ferry(t, "status", "-i", inv)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.code, out)
			}
			rows := statusRows(t, out)
			if r := rows["lb-02|failover"]; r != tc.row {
				t.Errorf("lb-02 failover: %q, want %q", r, tc.row)
			}
			if r := rows["lb-01|vip 198.18.0.10"]; r != tc.vip {
				t.Errorf("vip: %q, want %q", r, tc.vip)
			}
		})
	}
}

func TestStatusBadInput(t *testing.T) {
	inv, _ := newStatusEnv(t, map[string]fakeHost{"lb-01": {}}, false)
	for _, args := range [][]string{
		{"status"},
		{"status", "-i", inv, "--output", "yaml"},
		{"status", "-i", inv, "--forks", "0"},
		{"status", "-i", filepath.Join(t.TempDir(), "missing.yml")},
	} {
		if _, code := ferry(t, args...); code != exitBadInput {
			t.Errorf("%q: exit %d, want %d", args, code, exitBadInput)
		}
	}
}
