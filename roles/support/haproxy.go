package support

import (
	"strings"

	"github.com/ferry-deploy/ferry/health"
	"github.com/ferry-deploy/ferry/runner/hostread"
)

// defaultAdminSocket is the haproxy role's haproxy_admin_socket default.
const defaultAdminSocket = "/run/haproxy/admin.sock"

// haproxyHealth rates every backend server HAProxy's runtime API lists.
var haproxyHealth = health.Check{
	Role:  "haproxy",
	Units: []string{"haproxy"},
	Script: func(vars map[string]any) string {
		socket := health.VarString(vars, "haproxy_admin_socket", defaultAdminSocket)
		return health.IfCommand("haproxy", health.Ask("haproxy", hostread.HAProxyStat(socket).Script))
	},
	Host: func(a *health.Answer, _ health.Options) []health.Row {
		s, ok := a.Sections["haproxy"]
		if !ok {
			return nil
		}
		return backendRows(a, s)
	},
}

// backendRows rates each backend server: UP (or "no check") is ok, a
// server put aside on purpose (MAINT, DRAIN, NOLB) is a warning, anything
// else (DOWN, a transition such as "UP 1/2") fails; so does a backend with
// no server left.
func backendRows(a *health.Answer, s health.Section) []health.Row {
	rows, err := hostread.ParseHAProxyStat(s.Text)
	if err != nil || s.RC != 0 {
		msg := health.FirstLine(s.Text)
		if err != nil && msg == "" {
			msg = err.Error()
		}
		return []health.Row{a.Row("haproxy runtime API", health.Fail, msg)}
	}
	var out []health.Row
	for _, r := range rows {
		switch r.Server {
		case "FRONTEND":
			continue
		case "BACKEND":
			if r.Status != "UP" {
				out = append(out, a.Row("backend "+r.Proxy, health.Fail, r.Status+": no server up"))
			}
			continue
		}
		detail := r.Status
		if r.Check != "" {
			detail += " (" + r.Check + ")"
		}
		status := health.Fail
		switch {
		case r.Status == "UP" || r.Status == "no check":
			status = health.OK
		case r.Status == "MAINT" || r.Status == "DRAIN" || r.Status == "NOLB" || strings.HasPrefix(r.Status, "MAINT"):
			status = health.Warn
		}
		out = append(out, a.Row("backend "+r.Proxy+"/"+r.Server, status, detail))
	}
	return out
}
