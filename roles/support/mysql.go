package support

import (
	"fmt"
	"strings"

	"github.com/ferry-deploy/ferry/health"
	"github.com/ferry-deploy/ferry/runner/hostread"
)

// mysqlHealth rates replication on db hosts: a declared replica
// (mysql_role) must replicate, both threads running, under the lag limit.
// Debian's mysql.service is an alias of mariadb and shows as it.
var mysqlHealth = health.Check{
	Role:  "mysql",
	Units: []string{"mariadb", "mysql"},
	Script: func(map[string]any) string {
		return health.IfCommand("mysql", health.Ask("replica", hostread.Replication.Script))
	},
	Host: func(a *health.Answer, o health.Options) []health.Row {
		s, ok := a.Sections["replica"]
		if !ok {
			return nil
		}
		if r, ok := replicationRow(a, s, o); ok {
			return []health.Row{r}
		}
		return nil
	},
}

// replicationRow rates replication on a db host; ok is false when there is
// nothing to say (not a replica and not declared one).
func replicationRow(a *health.Answer, s health.Section, o health.Options) (health.Row, bool) {
	r := a.Row("replication", "", "")
	if s.RC != 0 {
		r.Status, r.Detail = health.Fail, "mysql: "+health.FirstLine(s.Text)
		return r, true
	}
	reps := hostread.ParseReplicas(s.Text)
	if len(reps) == 0 {
		switch a.Var("mysql_role", "") {
		case "replica":
			r.Status, r.Detail = health.Fail, "not replicating (SHOW REPLICA STATUS is empty)"
			return r, true
		case "primary":
			r.Status, r.Detail = health.OK, "primary"
			return r, true
		}
		return r, false
	}
	r.Status = health.OK
	var details []string
	for _, rep := range reps {
		lag := "NULL"
		if rep.Lag != nil {
			lag = fmt.Sprintf("%d s", *rep.Lag)
		}
		d := fmt.Sprintf("from %s: io %s, sql %s, lag %s", rep.SourceHost, rep.IORunning, rep.SQLRunning, lag)
		bad := !rep.Running()
		if rep.Lag != nil && float64(*rep.Lag) > o.MaxLag.Seconds() {
			bad = true
			d += fmt.Sprintf(" (over %s)", o.MaxLag)
		}
		for _, e := range []string{rep.LastIOError, rep.LastSQLError} {
			if e != "" {
				d += "; " + e
			}
		}
		if bad {
			r.Status = health.Fail
		}
		details = append(details, d)
	}
	r.Detail = strings.Join(details, "; ")
	return r, true
}
