package hostread

import (
	"strconv"
	"strings"
)

// ReplicaStatusSQL reads replication on MariaDB (10.5.1 on) and MySQL
// (8.0.22 on, which drops SHOW SLAVE STATUS in 8.4); run it with
// --vertical so that the column names come along.
const ReplicaStatusSQL = "SHOW REPLICA STATUS"

// Replication reads the replication state of the local server as the
// client's default account (root over the socket on Debian).
var Replication = Reader[[]Replica]{
	Name:   "replication",
	Script: "mysql --connect-timeout=3 --vertical -e " + "'" + ReplicaStatusSQL + "'",
	Parse:  infallible(ParseReplicas),
}

// Replica is one replication source as SHOW REPLICA STATUS reports it,
// with MariaDB's and MySQL 5's names (Slave_, Master_) and MySQL 8's
// (Replica_, Source_) folded together.
type Replica struct {
	SourceHost   string
	SourcePort   int
	SourceUser   string
	IORunning    string // Yes, No, Connecting
	SQLRunning   string // Yes, No
	Lag          *int   // seconds behind the source; nil when NULL
	GTID         bool   // replicating by GTID position
	LastIOError  string
	LastSQLError string
}

// Running is true when both replication threads run.
func (r Replica) Running() bool { return r.IORunning == "Yes" && r.SQLRunning == "Yes" }

// ParseReplicas reads SHOW REPLICA STATUS in vertical form: one Replica per
// source; none when the server replicates from nobody.
func ParseReplicas(out string) []Replica {
	rows := ParseVertical(out)
	reps := make([]Replica, len(rows))
	for i, row := range rows {
		reps[i] = ReplicaFrom(row)
	}
	return reps
}

// ReplicaFrom reads one row of SHOW REPLICA STATUS.
func ReplicaFrom(row map[string]string) Replica {
	pick := func(old string) string {
		if v, ok := row[old]; ok {
			return v
		}
		return row[strings.NewReplacer("Slave", "Replica", "Master", "Source").Replace(old)]
	}
	r := Replica{
		SourceHost:   pick("Master_Host"),
		SourceUser:   pick("Master_User"),
		IORunning:    pick("Slave_IO_Running"),
		SQLRunning:   pick("Slave_SQL_Running"),
		GTID:         strings.EqualFold(pick("Using_Gtid"), "Slave_Pos") || pick("Auto_Position") == "1",
		LastIOError:  pick("Last_IO_Error"),
		LastSQLError: pick("Last_SQL_Error"),
	}
	r.SourcePort, _ = strconv.Atoi(pick("Master_Port"))
	if n, err := strconv.Atoi(pick("Seconds_Behind_Master")); err == nil {
		r.Lag = &n
	}
	return r
}

// ParseVertical reads the mysql client's vertical output (--vertical or
// \G): a "*** N. row ***" line opens each row, then one "Column: value"
// line per column.
func ParseVertical(out string) []map[string]string {
	var rows []map[string]string
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "***") && strings.HasSuffix(t, "***") {
			rows = append(rows, map[string]string{})
			continue
		}
		k, v, ok := strings.Cut(t, ":")
		if !ok || len(rows) == 0 || strings.ContainsAny(k, " \t") {
			continue
		}
		rows[len(rows)-1][k] = strings.TrimSpace(v)
	}
	return rows
}
