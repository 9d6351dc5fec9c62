package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// statusFlags are the options of `ferry status`.
type statusFlags struct {
	output string
	forks  int
	maxLag time.Duration
	conn   connFlags
}

func init() {
	subcommands = append(subcommands, newStatusCmd)
}

func newStatusCmd() *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the health of the deployed stack in one table",
		Long: `status asks every host, over one SSH round trip each, for the state of its
key services (nginx, haproxy, keepalived, mariadb, prometheus and the
exporters, those that are installed), HAProxy's backend servers (runtime
API), its addresses (who holds virtual_address), replication (SHOW SLAVE
STATUS on db hosts) and Prometheus' alerts (on the host that runs it).
Exit 0 when all is healthy, 1 when anything is unhealthy (a firing alert, a
DOWN server, a stopped service, broken or lagging replication, the floating
address held by no host or by two), 2 when a host is unreachable.`,
		Example: `  ferry status -i lab/inventory.yml
  ferry status -i lab/inventory.yml --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "human", "output format: human (a table) or json (one object per line, a summary last)")
	fl.IntVarP(&f.forks, "forks", "f", 50, "how many hosts are asked at once")
	fl.DurationVar(&f.maxLag, "max-lag", 5*time.Second, "replication lag above which a replica is unhealthy")
	f.conn.register(fl)
	return cmd
}

// Check statuses, from best to worst; warn is shown but keeps exit 0.
const (
	statusOK          = "ok"
	statusWarn        = "warn"
	statusFail        = "fail"
	statusUnreachable = "unreachable"
)

// statusCheck is one row of the table.
type statusCheck struct {
	Host   string `json:"host"`
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// statusUnits are the services reported when installed; mysql is Debian's
// alias of mariadb and collapses into it (same unit Id).
var statusUnits = []string{
	"nginx", "haproxy", "keepalived", "mariadb", "mysql", "prometheus",
	"prometheus-node-exporter", "prometheus-nginx-exporter", "prometheus-mysqld-exporter",
}

// statusScript is what one host runs: sections framed by marker lines, each
// ending with its command's exit status, on a line of its own even when the
// output has no final newline (Prometheus' JSON). Read-only; no secret in it.
func statusScript(haproxySocket, prometheusAddr string) string {
	units := make([]string, len(statusUnits))
	for i, u := range statusUnits {
		units[i] = u + ".service"
	}
	return `LC_ALL=C; export LC_ALL
sec() { echo "@@ferry-status $1"; }
end() { printf '\n@@ferry-status-end %s\n' $?; }
sec services; systemctl show -p Id -p LoadState -p ActiveState ` + strings.Join(units, " ") + ` 2>&1; end
sec addr; ip -o addr show 2>&1; end
if command -v haproxy >/dev/null 2>&1; then
  sec haproxy; echo 'show stat' | socat -t 2 stdio ` + shellWord(haproxySocket) + ` 2>&1; end
fi
h=$(command -v ferry-lb-handover || echo /usr/local/sbin/ferry-lb-handover)
if [ -x "$h" ]; then
  sec lbha; "$h" status 2>&1; end
fi
if command -v mysql >/dev/null 2>&1; then
  sec replica; mysql --connect-timeout=3 -e 'SHOW SLAVE STATUS\G' 2>&1; end
fi
if command -v prometheus >/dev/null 2>&1; then
  sec alerts; curl -fsS --max-time 3 ` + shellWord("http://"+prometheusAddr+"/api/v1/alerts") + ` 2>&1; end
fi
`
}

func shellWord(s string) string { return shell.Literal(s) }

// hostStatus is what one host answered.
type hostStatus struct {
	host     *inventory.Host
	vars     map[string]any
	err      error
	sections map[string]statusSection
}

func runStatus(cmd *cobra.Command, f statusFlags) error {
	if f.output != "human" && f.output != "json" {
		return badInput(fmt.Errorf("--output %q: want human or json", f.output))
	}
	if f.forks < 1 {
		return badInput(fmt.Errorf("--forks %d: must be at least 1", f.forks))
	}
	if err := f.conn.check(); err != nil {
		return err
	}
	inv, err := loadInventory(cmd)
	if err != nil {
		return err
	}
	if len(inv.Hosts) == 0 {
		return badInput(fmt.Errorf("%s: no hosts", inv.Path))
	}
	connect := f.conn.connector(inv)
	results := make([]hostStatus, len(inv.Hosts))
	var g errgroup.Group
	g.SetLimit(f.forks)
	for i, h := range inv.Hosts {
		results[i] = hostStatus{host: h, vars: inv.VarsFor(h, nil, nil)}
		g.Go(func() error {
			r := &results[i]
			r.sections, r.err = askHost(cmd.Context(), connect, h, r.vars, f.conn.timeout)
			return nil
		})
	}
	_ = g.Wait() // askHost reports into results
	checks := evaluateStatus(results, inv.Vars, f.maxLag)
	if err := printStatus(cmd.OutOrStdout(), f.output, checks, inv.Redact); err != nil {
		return err
	}
	worst := statusOK
	for _, c := range checks {
		if rank(c.Status) > rank(worst) {
			worst = c.Status
		}
	}
	switch worst {
	case statusUnreachable:
		return &exitError{code: exitUnreachable, err: fmt.Errorf("status: a host is unreachable")}
	case statusFail:
		return &exitError{code: exitFailed, err: fmt.Errorf("status: unhealthy")}
	}
	return nil
}

func rank(s string) int {
	return map[string]int{statusOK: 0, statusWarn: 1, statusFail: 2, statusUnreachable: 3}[s]
}

// askHost runs the status script in one round trip, bounded in time so that
// a hung host cannot stall the table.
func askHost(ctx context.Context, connect func(context.Context, *inventory.Host) (executor.Executor, error), h *inventory.Host, vars map[string]any, timeout time.Duration) (map[string]statusSection, error) {
	x, err := connect(ctx, h)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	if timeout <= 0 {
		timeout = sshx.DefaultConnectTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout+20*time.Second)
	defer cancel()
	script := statusScript(varString(vars, "haproxy_admin_socket", "/run/haproxy/admin.sock"),
		varString(vars, "monitoring_prometheus_listen", "127.0.0.1:9090"))
	res, err := x.Run(rctx, executor.Command{Script: script, Become: h.Conn.Become})
	if err != nil {
		return nil, err
	}
	return parseStatusSections(string(res.Stdout)), nil
}

func varString(vars map[string]any, key, def string) string {
	if v, ok := vars[key]; ok && v != nil && fmt.Sprint(v) != "" {
		return fmt.Sprint(v)
	}
	return def
}

// statusSection is one section of the script's output.
type statusSection struct {
	text string
	rc   int
}

// parseStatusSections splits the script's output at its marker lines.
func parseStatusSections(out string) map[string]statusSection {
	secs := map[string]statusSection{}
	var name string
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(trimmed, "@@ferry-status-end "):
			if name != "" {
				rc, _ := strconv.Atoi(strings.TrimPrefix(trimmed, "@@ferry-status-end "))
				// end() printed a newline of its own before the marker.
				secs[name] = statusSection{text: strings.TrimSuffix(b.String(), "\n"), rc: rc}
			}
			name = ""
			b.Reset()
		case strings.HasPrefix(trimmed, "@@ferry-status "):
			name = strings.TrimPrefix(trimmed, "@@ferry-status ")
			b.Reset()
		case name != "":
			b.WriteString(line)
		}
	}
	return secs
}

// evaluateStatus turns every host's answers into table rows, in inventory
// order, then the floating address row.
func evaluateStatus(results []hostStatus, globals map[string]any, maxLag time.Duration) []statusCheck {
	var checks []statusCheck
	vip := netip.Addr{}
	if s := varString(globals, "virtual_address", ""); s != "" {
		if p, err := netip.ParsePrefix(s); err == nil {
			vip = p.Addr()
		} else if a, err := netip.ParseAddr(s); err == nil {
			vip = a
		}
	}
	var holders []string
	var lbs []lbHA
	reachable := 0
	for _, r := range results {
		name := r.host.Name
		add := func(check, status, detail string) {
			checks = append(checks, statusCheck{Host: name, Check: check, Status: status, Detail: detail})
		}
		if r.err != nil {
			add("ssh", statusUnreachable, sshx.Reason(r.err)+": "+r.err.Error())
			continue
		}
		reachable++
		add("ssh", statusOK, "reachable")
		if s, ok := r.sections["services"]; ok {
			for _, u := range parseSystemdShow(s.text) {
				st := statusOK
				if u.active != "active" {
					st = statusFail
				}
				add("service "+strings.TrimSuffix(u.id, ".service"), st, u.active)
			}
		}
		if s, ok := r.sections["addr"]; ok && vip.IsValid() {
			for _, a := range parseIPAddr(s.text) {
				if a.addr == vip {
					holders = append(holders, name)
				}
			}
		}
		if s, ok := r.sections["haproxy"]; ok {
			checks = append(checks, haproxyChecks(name, s)...)
		}
		if s, ok := r.sections["lbha"]; ok {
			lb := parseLBHA(name, s.text)
			lbs = append(lbs, lb)
			checks = append(checks, lb.check())
		}
		if s, ok := r.sections["replica"]; ok {
			if c, ok := replicaCheck(name, s, varString(r.vars, "mysql_role", ""), maxLag); ok {
				checks = append(checks, c)
			}
		}
		if s, ok := r.sections["alerts"]; ok {
			checks = append(checks, alertChecks(name, s)...)
		}
	}
	if vip.IsValid() && reachable > 0 {
		c := statusCheck{Host: "-", Check: "vip " + vip.String()}
		switch len(holders) {
		case 0:
			c.Status, c.Detail = statusFail, "held by no reachable host"
		case 1:
			c.Host, c.Status, c.Detail = holders[0], statusOK, "held by "+holders[0]
			c.Status, c.Detail = standbyDetail(c.Status, c.Detail, holders[0], lbs)
		default:
			c.Status, c.Detail = statusFail, "held by more than one host: "+strings.Join(holders, ", ")
		}
		checks = append(checks, c)
	}
	return checks
}

// unitState is one unit of `systemctl show -p Id -p LoadState -p ActiveState`.
type unitState struct{ id, load, active string }

// parseSystemdShow reads systemctl show's blocks (KEY=value lines, a blank
// line between units) and keeps the installed units, each once.
func parseSystemdShow(text string) []unitState {
	var out []unitState
	seen := map[string]bool{}
	flush := func(u unitState) {
		if u.id != "" && u.load == "loaded" && !seen[u.id] {
			seen[u.id] = true
			out = append(out, u)
		}
	}
	var u unitState
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush(u)
			u = unitState{}
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "Id":
			u.id = v
		case "LoadState":
			u.load = v
		case "ActiveState":
			u.active = v
		}
	}
	flush(u)
	return out
}

// ifaceAddr is one address of `ip -o addr show`.
type ifaceAddr struct {
	iface string
	addr  netip.Addr
	bits  int
}

// parseIPAddr reads `ip -o addr show`: "N: IFACE    inet ADDR/BITS ...".
func parseIPAddr(text string) []ifaceAddr {
	var out []ifaceAddr
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || (f[2] != "inet" && f[2] != "inet6") {
			continue
		}
		p, err := netip.ParsePrefix(f[3])
		if err != nil {
			continue
		}
		out = append(out, ifaceAddr{iface: f[1], addr: p.Addr(), bits: p.Bits()})
	}
	return out
}

// haproxyRow is one line of HAProxy's `show stat` CSV.
type haproxyRow struct{ proxy, server, status, check string }

// parseHAProxyStat reads `show stat`: a "# pxname,svname,..." header, then
// one CSV row per frontend, server and backend. Columns are found by name.
func parseHAProxyStat(text string) ([]haproxyRow, error) {
	text = strings.TrimLeft(text, " \n")
	if !strings.HasPrefix(text, "# ") {
		return nil, fmt.Errorf("not a show stat answer: %q", firstLine(text))
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("show stat: %w", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"pxname", "svname", "status", "check_status"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("show stat: no column %s", name)
		}
	}
	var out []haproxyRow
	for _, row := range rows[1:] {
		get := func(name string) string {
			if i := col[name]; i < len(row) {
				return row[i]
			}
			return ""
		}
		out = append(out, haproxyRow{proxy: get("pxname"), server: get("svname"), status: get("status"), check: get("check_status")})
	}
	return out, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// haproxyChecks rates each backend server: UP (or "no check") is ok, a
// server put aside on purpose (MAINT, DRAIN, NOLB) is a warning, anything
// else (DOWN, a transition such as "UP 1/2") fails; so does a backend with
// no server left.
func haproxyChecks(host string, s statusSection) []statusCheck {
	rows, err := parseHAProxyStat(s.text)
	if err != nil || s.rc != 0 {
		msg := firstLine(s.text)
		if err != nil && msg == "" {
			msg = err.Error()
		}
		return []statusCheck{{Host: host, Check: "haproxy runtime API", Status: statusFail, Detail: msg}}
	}
	var out []statusCheck
	for _, r := range rows {
		switch r.server {
		case "FRONTEND":
			continue
		case "BACKEND":
			if r.status != "UP" {
				out = append(out, statusCheck{Host: host, Check: "backend " + r.proxy, Status: statusFail, Detail: r.status + ": no server up"})
			}
			continue
		}
		c := statusCheck{Host: host, Check: "backend " + r.proxy + "/" + r.server, Detail: r.status}
		if r.check != "" {
			c.Detail += " (" + r.check + ")"
		}
		switch {
		case r.status == "UP" || r.status == "no check":
			c.Status = statusOK
		case r.status == "MAINT" || r.status == "DRAIN" || r.status == "NOLB" || strings.HasPrefix(r.status, "MAINT"):
			c.Status = statusWarn
		default:
			c.Status = statusFail
		}
		out = append(out, c)
	}
	return out
}

// parseSlaveStatus reads `SHOW SLAVE STATUS\G`: "*** N. row ***" lines,
// then "Key: Value" lines. One map per replication source.
func parseSlaveStatus(text string) []map[string]string {
	var out []map[string]string
	var cur map[string]string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "***") && strings.HasSuffix(line, "***") {
			cur = map[string]string{}
			out = append(out, cur)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || cur == nil {
			continue
		}
		cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// field reads a replication column under its MariaDB/MySQL 5 name or its
// MySQL 8 (Replica_, Source_) name.
func field(m map[string]string, old string) string {
	if v, ok := m[old]; ok {
		return v
	}
	r := strings.NewReplacer("Slave", "Replica", "Master", "Source")
	return m[r.Replace(old)]
}

// replicaCheck rates replication on a db host; ok is false when there is
// nothing to say (not a replica and not declared one).
func replicaCheck(host string, s statusSection, role string, maxLag time.Duration) (statusCheck, bool) {
	c := statusCheck{Host: host, Check: "replication"}
	if s.rc != 0 {
		c.Status, c.Detail = statusFail, "mysql: "+firstLine(s.text)
		return c, true
	}
	rows := parseSlaveStatus(s.text)
	if len(rows) == 0 {
		switch role {
		case "replica":
			c.Status, c.Detail = statusFail, "not replicating (SHOW SLAVE STATUS is empty)"
			return c, true
		case "primary":
			c.Status, c.Detail = statusOK, "primary"
			return c, true
		}
		return c, false
	}
	c.Status = statusOK
	var details []string
	for _, m := range rows {
		io, sql, lag := field(m, "Slave_IO_Running"), field(m, "Slave_SQL_Running"), field(m, "Seconds_Behind_Master")
		d := fmt.Sprintf("from %s: io %s, sql %s, lag %s", field(m, "Master_Host"), io, sql, lag)
		if lag != "NULL" && lag != "" {
			d += " s"
		}
		bad := io != "Yes" || sql != "Yes"
		if n, err := strconv.Atoi(lag); err == nil && time.Duration(n)*time.Second > maxLag {
			bad = true
			d += fmt.Sprintf(" (over %s)", maxLag)
		}
		for _, e := range []string{"Last_IO_Error", "Last_SQL_Error"} {
			if v := m[e]; v != "" {
				d += "; " + v
			}
		}
		if bad {
			c.Status = statusFail
		}
		details = append(details, d)
	}
	c.Detail = strings.Join(details, "; ")
	return c, true
}

// promAlert is one alert of Prometheus' /api/v1/alerts.
type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
}

// parseAlerts reads /api/v1/alerts.
func parseAlerts(text string) ([]promAlert, error) {
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(text), &resp); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("alerts: status %q: %s", resp.Status, resp.Error)
	}
	sort.SliceStable(resp.Data.Alerts, func(i, j int) bool {
		a, b := resp.Data.Alerts[i], resp.Data.Alerts[j]
		if a.Labels["alertname"] != b.Labels["alertname"] {
			return a.Labels["alertname"] < b.Labels["alertname"]
		}
		return a.Labels["host"]+a.Labels["instance"] < b.Labels["host"]+b.Labels["instance"]
	})
	return resp.Data.Alerts, nil
}

// alertChecks reports firing alerts as failures and pending ones as
// warnings, or one ok row when none is active.
func alertChecks(host string, s statusSection) []statusCheck {
	alerts, err := parseAlerts(s.text)
	if s.rc != 0 || err != nil {
		msg := firstLine(s.text)
		if msg == "" && err != nil {
			msg = err.Error()
		}
		return []statusCheck{{Host: host, Check: "prometheus alerts", Status: statusFail, Detail: "cannot read: " + msg}}
	}
	var out []statusCheck
	for _, a := range alerts {
		c := statusCheck{Host: host, Check: "alert " + a.Labels["alertname"], Status: statusWarn}
		if a.State == "firing" {
			c.Status = statusFail
		}
		about := a.Annotations["summary"]
		if about == "" {
			about = a.Labels["host"]
			if about == "" {
				about = a.Labels["instance"]
			}
		}
		c.Detail = fmt.Sprintf("%s since %s: %s", a.State, a.ActiveAt.UTC().Format(time.TimeOnly), about)
		out = append(out, c)
	}
	if len(out) == 0 {
		out = append(out, statusCheck{Host: host, Check: "prometheus alerts", Status: statusOK, Detail: "none active"})
	}
	return out
}

var statusSpace = regexp.MustCompile(`\s+`)

// printStatus writes the table (human) or one JSON object per check and a
// summary last (json). Everything passes through redact.
func printStatus(w io.Writer, format string, checks []statusCheck, redact func(string) string) error {
	counts := map[string]int{}
	for i := range checks {
		c := &checks[i]
		c.Detail = redact(statusSpace.ReplaceAllString(strings.TrimSpace(c.Detail), " "))
		counts[c.Status]++
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, c := range checks {
			if err := enc.Encode(struct {
				Event string `json:"event"`
				statusCheck
			}{"check", c}); err != nil {
				return err
			}
		}
		return enc.Encode(map[string]any{
			"event": "summary", "healthy": counts[statusFail] == 0 && counts[statusUnreachable] == 0,
			"ok": counts[statusOK], "warn": counts[statusWarn], "fail": counts[statusFail], "unreachable": counts[statusUnreachable],
		})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tCHECK\tSTATUS\tDETAIL")
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Host, c.Check, c.Status, c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "healthy"
	if counts[statusFail] > 0 || counts[statusUnreachable] > 0 {
		verdict = "UNHEALTHY"
	}
	_, err := fmt.Fprintf(w, "\n%s: %d ok, %d warn, %d fail, %d unreachable\n", verdict,
		counts[statusOK], counts[statusWarn], counts[statusFail], counts[statusUnreachable])
	return err
}
