package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

func statusFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "status", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseHAProxyStat(t *testing.T) {
	rows, err := parseHAProxyStat(statusFixture(t, "haproxy-show-stat.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []haproxyRow{
		{"https", "FRONTEND", "OPEN", ""},
		{"web", "web-01", "UP", "L7OK"},
		{"web", "web-02", "DOWN", "L4CON"},
		{"web", "web-03", "MAINT", ""},
		{"web", "BACKEND", "UP", ""},
		{"stats", "FRONTEND", "OPEN", ""},
	}
	if diff := cmp.Diff(want, rows, cmp.AllowUnexported(haproxyRow{})); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	got := haproxyChecks("lb-01", statusSection{text: statusFixture(t, "haproxy-show-stat.csv")})
	wantChecks := []statusCheck{
		{"lb-01", "backend web/web-01", statusOK, "UP (L7OK)"},
		{"lb-01", "backend web/web-02", statusFail, "DOWN (L4CON)"},
		{"lb-01", "backend web/web-03", statusWarn, "MAINT"},
	}
	if diff := cmp.Diff(wantChecks, got); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	for _, bad := range []statusSection{
		{text: "2026/11/26 17:55:43 socat[42] E connect(5, AF=1 \"/run/haproxy/admin.sock\", 25): No such file or directory\n", rc: 1},
		{text: "Unknown command. Please enter one of the following commands only :\n"},
		{text: "# pxname,svname\nweb,web-01\n"}, // no status column
	} {
		c := haproxyChecks("lb-01", bad)
		if len(c) != 1 || c[0].Status != statusFail || c[0].Check != "haproxy runtime API" {
			t.Errorf("%q: %+v", bad.text, c)
		}
	}
	// A backend with no server left fails on its own row too.
	down := regexp.MustCompile(`(?m)^(web,BACKEND,(?:[^,]*,){15})UP,`).ReplaceAllString(statusFixture(t, "haproxy-show-stat.csv"), "${1}DOWN,")
	c := haproxyChecks("lb-01", statusSection{text: down})
	if last := c[len(c)-1]; last.Check != "backend web" || last.Status != statusFail {
		t.Errorf("backend DOWN: %+v", c)
	}
}

func TestParseIPAddr(t *testing.T) {
	vip := netip.MustParseAddr("198.18.0.10")
	has := func(file string) bool {
		for _, a := range parseIPAddr(statusFixture(t, file)) {
			if a.addr == vip {
				if a.iface != "eth0" || a.bits != 24 {
					t.Errorf("%s: %+v", file, a)
				}
				return true
			}
		}
		return false
	}
	if !has("ip-addr-vip.txt") || has("ip-addr-novip.txt") || has("ip-addr-controller.txt") {
		t.Error("the floating address is found where it is not, or missed where it is")
	}
	addrs := parseIPAddr(statusFixture(t, "ip-addr-vip.txt"))
	if len(addrs) != 5 || addrs[0].addr.String() != "127.0.0.1" || addrs[2].addr.String() != "198.18.0.11" {
		t.Errorf("addresses: %+v", addrs)
	}
}

func TestParseSlaveStatus(t *testing.T) {
	rows := parseSlaveStatus(statusFixture(t, "show-slave-status-ok.txt"))
	if len(rows) != 1 || rows[0]["Master_Host"] != "198.18.0.31" || rows[0]["Slave_SQL_Running"] != "Yes" || rows[0]["Last_IO_Error"] != "" {
		t.Fatalf("rows: %v", rows)
	}
	if got := parseSlaveStatus(""); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
	tests := []struct {
		file, role string
		status     string
		detail     string // a part of the detail
	}{
		{"show-slave-status-ok.txt", "replica", statusOK, "from 198.18.0.31: io Yes, sql Yes, lag 0 s"},
		{"show-slave-status-io-down.txt", "replica", statusFail, "io Connecting, sql Yes, lag NULL; error connecting to master 'repl@198.18.0.31:3306'"},
		{"show-slave-status-lagging.txt", "replica", statusFail, "lag 42 s (over 5s)"},
	}
	for _, tt := range tests {
		c, ok := replicaCheck("db-02", statusSection{text: statusFixture(t, tt.file)}, tt.role, 5*time.Second)
		if !ok || c.Status != tt.status || !strings.Contains(c.Detail, tt.detail) {
			t.Errorf("%s: %+v, want %s with %q", tt.file, c, tt.status, tt.detail)
		}
	}
	// MySQL 8 names the columns Replica_ and Source_.
	mysql8 := strings.NewReplacer("Slave_", "Replica_", "Master_Host", "Source_Host", "Seconds_Behind_Master", "Seconds_Behind_Source").Replace(statusFixture(t, "show-slave-status-lagging.txt"))
	if c, _ := replicaCheck("db-02", statusSection{text: mysql8}, "replica", 5*time.Second); c.Status != statusFail || !strings.Contains(c.Detail, "from 198.18.0.31: io Yes, sql Yes, lag 42 s") {
		t.Errorf("MySQL 8 names: %+v", c)
	}
	empty := statusSection{}
	if c, ok := replicaCheck("db-02", empty, "replica", time.Second); !ok || c.Status != statusFail {
		t.Errorf("declared replica, not replicating: %+v", c)
	}
	if c, ok := replicaCheck("db-01", empty, "primary", time.Second); !ok || c.Status != statusOK {
		t.Errorf("primary: %+v", c)
	}
	if _, ok := replicaCheck("x", empty, "", time.Second); ok {
		t.Error("a host of no known role got a replication row")
	}
	if c, _ := replicaCheck("db-02", statusSection{text: "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)\n", rc: 1}, "replica", time.Second); c.Status != statusFail || !strings.Contains(c.Detail, "ERROR 2002") {
		t.Errorf("server down: %+v", c)
	}
}

func TestParseAlerts(t *testing.T) {
	alerts, err := parseAlerts(statusFixture(t, "prometheus-alerts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 || alerts[0].Labels["alertname"] != "HostDown" || alerts[0].State != "firing" || alerts[1].State != "pending" || alerts[0].ActiveAt.IsZero() {
		t.Fatalf("alerts: %+v", alerts)
	}
	checks := alertChecks("monitor-01", statusSection{text: statusFixture(t, "prometheus-alerts.json")})
	if len(checks) != 2 || checks[0].Check != "alert HostDown" || checks[0].Status != statusFail ||
		!strings.Contains(checks[0].Detail, "web-01 is down") || checks[1].Status != statusWarn {
		t.Errorf("checks: %+v", checks)
	}
	none := alertChecks("monitor-01", statusSection{text: statusFixture(t, "prometheus-alerts-none.json")})
	if diff := cmp.Diff([]statusCheck{{"monitor-01", "prometheus alerts", statusOK, "none active"}}, none); diff != "" {
		t.Errorf("no alerts (-want +got):\n%s", diff)
	}
	for _, bad := range []statusSection{
		{text: "curl: (7) Failed to connect to 127.0.0.1 port 9090 after 0 ms: Couldn't connect to server\n", rc: 7},
		{text: `{"status":"error","errorType":"bad_data","error":"nope"}`},
		{text: `<html>`},
	} {
		if c := alertChecks("m", bad); len(c) != 1 || c[0].Status != statusFail {
			t.Errorf("%q: %+v", bad.text, c)
		}
	}
}

func TestParseSystemdShow(t *testing.T) {
	got := parseSystemdShow(statusFixture(t, "systemctl-show-lb.txt"))
	want := []unitState{
		{"haproxy.service", "loaded", "active"},
		{"keepalived.service", "loaded", "active"},
		{"prometheus-node-exporter.service", "loaded", "active"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(unitState{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Debian's mysql.service is an alias of mariadb.service: one row.
	alias := "Id=mariadb.service\nLoadState=loaded\nActiveState=failed\n\nId=mariadb.service\nLoadState=loaded\nActiveState=failed\n"
	if got := parseSystemdShow(alias); len(got) != 1 || got[0].active != "failed" {
		t.Errorf("alias: %+v", got)
	}
}

func TestParseStatusSections(t *testing.T) {
	out := "noise\n@@ferry-status addr\n1: lo    inet 127.0.0.1/8 scope host lo\n\n@@ferry-status-end 0\n" +
		"@@ferry-status alerts\n{}\n@@ferry-status-end 0\n" +
		"@@ferry-status replica\nERROR 2002\n\n@@ferry-status-end 1\n@@ferry-status cut\npartial\n"
	got := parseStatusSections(out)
	want := map[string]statusSection{
		"addr":    {text: "1: lo    inet 127.0.0.1/8 scope host lo\n"},
		"alerts":  {text: "{}"},
		"replica": {text: "ERROR 2002\n", rc: 1},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(statusSection{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

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
		"lb-01|backend web/web-01":    statusOK,
		"lb-01|backend web/web-02":    statusFail,
		"lb-01|backend web/web-03":    statusWarn,
		"lb-02|backend web/web-02":    statusOK,
		"db-02|replication":           statusFail,
		"monitor-01|alert HostDown":   statusFail,
		"monitor-01|alert TargetDown": statusWarn,
		"-|vip 198.18.0.10":           statusFail,
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
