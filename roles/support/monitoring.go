package support

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/ferry-deploy/ferry/health"
	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/runner/hostread"
)

// defaultPrometheus is the monitoring role's monitoring_prometheus_listen
// default.
const defaultPrometheus = "127.0.0.1:9090"

// monitoringHealth: Prometheus and the exporters the monitoring role
// installs, and the alerts active on the host that runs Prometheus.
var monitoringHealth = health.Check{
	Role:  "monitoring",
	Units: []string{"prometheus", "prometheus-node-exporter", "prometheus-nginx-exporter", "prometheus-mysqld-exporter"},
	Script: func(vars map[string]any) string {
		listen := health.VarString(vars, "monitoring_prometheus_listen", defaultPrometheus)
		return health.IfCommand("prometheus", health.Ask("alerts", alertsReader(listen).Script))
	},
	Host: func(a *health.Answer, _ health.Options) []health.Row {
		s, ok := a.Sections["alerts"]
		if !ok {
			return nil
		}
		return alertRows(a, s)
	},
}

// alert is one alert of Prometheus' /api/v1/alerts.
type alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
}

// alertsReader reads the active alerts from Prometheus' HTTP API on the
// host itself.
func alertsReader(listen string) hostread.Reader[[]alert] {
	return hostread.Reader[[]alert]{
		Name:   "prometheus alerts",
		Script: "curl -fsS --max-time 3 " + shell.Literal("http://"+listen+"/api/v1/alerts"),
		Parse:  parseAlerts,
	}
}

// parseAlerts reads /api/v1/alerts, sorted by name, then host.
func parseAlerts(text string) ([]alert, error) {
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Alerts []alert `json:"alerts"`
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

// alertRows reports firing alerts as failures and pending ones as
// warnings, or one ok row when none is active.
func alertRows(a *health.Answer, s health.Section) []health.Row {
	alerts, err := parseAlerts(s.Text)
	if s.RC != 0 || err != nil {
		msg := health.FirstLine(s.Text)
		if msg == "" && err != nil {
			msg = err.Error()
		}
		return []health.Row{a.Row("prometheus alerts", health.Fail, "cannot read: "+msg)}
	}
	var out []health.Row
	for _, al := range alerts {
		status := health.Warn
		if al.State == "firing" {
			status = health.Fail
		}
		about := al.Annotations["summary"]
		if about == "" {
			about = al.Labels["host"]
			if about == "" {
				about = al.Labels["instance"]
			}
		}
		out = append(out, a.Row("alert "+al.Labels["alertname"], status, fmt.Sprintf("%s since %s: %s", al.State, al.ActiveAt.UTC().Format(time.TimeOnly), about)))
	}
	if len(out) == 0 {
		out = append(out, a.Row("prometheus alerts", health.OK, "none active"))
	}
	return out
}
