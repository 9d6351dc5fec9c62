package support

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-deploy/ferry/health"
	"github.com/ferry-deploy/ferry/internal/testfs"
	"github.com/ferry-deploy/ferry/inventory"
)

// recorded reads a recorded output: the readers' (runner/hostread) or
// the roles' own (Prometheus).
var recorded = testfs.ReadFrom("testdata", "../../runner/hostread/testdata")

func answer(name string, vars map[string]any, secs map[string]health.Section) *health.Answer {
	return &health.Answer{Host: &inventory.Host{Name: name}, Vars: vars, Sections: secs}
}

func TestBackendRows(t *testing.T) {
	lb := answer("lb-01", nil, nil)
	got := backendRows(lb, health.Section{Text: recorded(t, "haproxy-show-stat.csv")})
	want := []health.Row{
		{Host: "lb-01", Check: "backend web/web-01", Status: health.OK, Detail: "UP (L7OK)"},
		{Host: "lb-01", Check: "backend web/web-02", Status: health.Fail, Detail: "DOWN (L4CON)"},
		{Host: "lb-01", Check: "backend web/web-03", Status: health.Warn, Detail: "MAINT"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []health.Section{
		{Text: "2026/11/26 17:55:43 socat[42] E connect(5, AF=1 \"/run/haproxy/admin.sock\", 25): No such file or directory\n", RC: 1},
		{Text: "Unknown command. Please enter one of the following commands only :\n"},
		{Text: "# pxname,svname\nweb,web-01\n"}, // no status column
	} {
		c := backendRows(lb, bad)
		if len(c) != 1 || c[0].Status != health.Fail || c[0].Check != "haproxy runtime API" {
			t.Errorf("%q: %+v", bad.Text, c)
		}
	}
	// A backend with no server left fails on its own row too.
	down := regexp.MustCompile(`(?m)^(web,BACKEND,(?:[^,]*,){15})UP,`).ReplaceAllString(recorded(t, "haproxy-show-stat.csv"), "${1}DOWN,")
	c := backendRows(lb, health.Section{Text: down})
	if last := c[len(c)-1]; last.Check != "backend web" || last.Status != health.Fail {
		t.Errorf("backend DOWN: %+v", c)
	}
}

func TestReplicationRow(t *testing.T) {
	o := health.Options{MaxLag: 5 * time.Second}
	replica := func(text string, rc int, role string) (health.Row, bool) {
		return replicationRow(answer("db-02", map[string]any{"mysql_role": role}, nil), health.Section{Text: text, RC: rc}, o)
	}
	for _, tt := range []struct {
		file, status, detail string // detail: a part of it
	}{
		{"show-slave-status-ok.txt", health.OK, "from 198.18.0.31: io Yes, sql Yes, lag 0 s"},
		{"show-slave-status-io-down.txt", health.Fail, "io Connecting, sql Yes, lag NULL; error connecting to master 'repl@198.18.0.31:3306'"},
		{"show-slave-status-lagging.txt", health.Fail, "lag 42 s (over 5s)"},
	} {
		r, ok := replica(recorded(t, tt.file), 0, "replica")
		if !ok || r.Status != tt.status || !strings.Contains(r.Detail, tt.detail) {
			t.Errorf("%s: %+v, want %s with %q", tt.file, r, tt.status, tt.detail)
		}
	}
	if r, ok := replica("", 0, "replica"); !ok || r.Status != health.Fail {
		t.Errorf("declared replica, not replicating: %+v", r)
	}
	if r, ok := replica("", 0, "primary"); !ok || r.Status != health.OK {
		t.Errorf("primary: %+v", r)
	}
	if _, ok := replica("", 0, ""); ok {
		t.Error("a host of no known role got a replication row")
	}
	if r, _ := replica("ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)\n", 1, "replica"); r.Status != health.Fail || !strings.Contains(r.Detail, "ERROR 2002") {
		t.Errorf("server down: %+v", r)
	}
}

func TestAlertRows(t *testing.T) {
	alerts, err := parseAlerts(recorded(t, "prometheus-alerts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 || alerts[0].Labels["alertname"] != "HostDown" || alerts[0].State != "firing" || alerts[1].State != "pending" || alerts[0].ActiveAt.IsZero() {
		t.Fatalf("alerts: %+v", alerts)
	}
	m := answer("monitor-01", nil, nil)
	rows := alertRows(m, health.Section{Text: recorded(t, "prometheus-alerts.json")})
	if len(rows) != 2 || rows[0].Check != "alert HostDown" || rows[0].Status != health.Fail ||
		!strings.Contains(rows[0].Detail, "web-01 is down") || rows[1].Status != health.Warn {
		t.Errorf("rows: %+v", rows)
	}
	none := alertRows(m, health.Section{Text: recorded(t, "prometheus-alerts-none.json")})
	if diff := cmp.Diff([]health.Row{{Host: "monitor-01", Check: "prometheus alerts", Status: health.OK, Detail: "none active"}}, none); diff != "" {
		t.Errorf("no alerts (-want +got):\n%s", diff)
	}
	for _, bad := range []health.Section{
		{Text: "curl: (7) Failed to connect to 127.0.0.1 port 9090 after 0 ms: Couldn't connect to server\n", RC: 7},
		{Text: `{"status":"error","errorType":"bad_data","error":"nope"}`},
		{Text: `<html>`},
	} {
		if r := alertRows(m, bad); len(r) != 1 || r[0].Status != health.Fail {
			t.Errorf("%q: %+v", bad.Text, r)
		}
	}
}

// TestVIPRows: exactly one reachable host must hold the floating address,
// and another load balancer should be ready to take it.
func TestVIPRows(t *testing.T) {
	o := health.Options{Globals: map[string]any{"virtual_address": "198.18.0.10/24"}}
	lb := func(name, ip, handover string) *health.Answer {
		return answer(name, nil, map[string]health.Section{"addr": {Text: recorded(t, ip)}, "lbha": {Text: handover}})
	}
	ready := "state=BACKUP holds=no serves=yes maintenance=0 haproxy_down=0\n"
	for _, tt := range []struct {
		name string
		all  []*health.Answer
		want health.Row
	}{
		{"one holder", []*health.Answer{lb("lb-01", "ip-addr-vip.txt", "state=MASTER holds=yes serves=yes"), lb("lb-02", "ip-addr-novip.txt", ready)},
			health.Row{Host: "lb-01", Check: "vip 198.18.0.10", Status: health.OK, Detail: "held by lb-01; ready to take it: lb-02"}},
		{"none", []*health.Answer{lb("lb-01", "ip-addr-novip.txt", ready)},
			health.Row{Host: "-", Check: "vip 198.18.0.10", Status: health.Fail, Detail: "held by no reachable host"}},
		{"two", []*health.Answer{lb("lb-01", "ip-addr-vip.txt", ready), lb("lb-02", "ip-addr-vip.txt", ready)},
			health.Row{Host: "-", Check: "vip 198.18.0.10", Status: health.Fail, Detail: "held by more than one host: lb-01, lb-02"}},
		{"standby in maintenance", []*health.Answer{lb("lb-01", "ip-addr-vip.txt", ready), lb("lb-02", "ip-addr-novip.txt", "state=FAULT serves=yes maintenance=1")},
			health.Row{Host: "lb-01", Check: "vip 198.18.0.10", Status: health.Warn, Detail: "held by lb-01; no other load balancer ready: lb-02 (keepalived FAULT, in maintenance)"}},
	} {
		if diff := cmp.Diff([]health.Row{tt.want}, vipRows(tt.all, o)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if rows := vipRows([]*health.Answer{lb("lb-01", "ip-addr-vip.txt", ready)}, health.Options{}); rows != nil {
		t.Errorf("no virtual_address: %+v", rows)
	}
}

func TestHandoverRow(t *testing.T) {
	for text, want := range map[string]health.Row{
		"state=BACKUP holds=no serves=yes maintenance=0 haproxy_down=0": {Host: "lb-02", Check: "failover", Status: health.OK, Detail: "backup, ready"},
		"state=FAULT holds=no serves=no maintenance=0 haproxy_down=1":   {Host: "lb-02", Check: "failover", Status: health.Fail, Detail: "keepalived FAULT, haproxy stopped, does not serve the site"},
		"state=BACKUP serves=yes maintenance=1":                         {Host: "lb-02", Check: "failover", Status: health.Warn, Detail: "in maintenance"},
		"garbage":                                                       {Host: "lb-02", Check: "failover", Status: health.Fail, Detail: "keepalived UNKNOWN, does not serve the site"},
	} {
		if got := parseHandover("lb-02", text).row(); got != want {
			t.Errorf("%q: %+v, want %+v", text, got, want)
		}
	}
}

// TestHealthChecksOrder: every built-in role with services declares
// them, in the order the table has always shown them.
func TestHealthChecksOrder(t *testing.T) {
	var units, roles []string
	for _, c := range HealthChecks() {
		roles = append(roles, c.Role)
		units = append(units, c.Units...)
	}
	want := []string{"nginx", "haproxy", "keepalived", "mariadb", "mysql", "prometheus",
		"prometheus-node-exporter", "prometheus-nginx-exporter", "prometheus-mysqld-exporter"}
	if !cmp.Equal(units, want) {
		t.Errorf("units %v, want %v", units, want)
	}
	for _, r := range roles {
		if _, err := os.Stat(filepath.Join("..", "builtin", r, "role.yml")); err != nil {
			t.Errorf("check of role %s: no such built-in role", r)
		}
	}
}
