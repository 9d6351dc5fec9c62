package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/runner/hostread"
)

func init() {
	register("mysql_replica", []string{"primary_host", "primary_port", "user", "password", "gtid", "max_lag"},
		[]string{"primary_host", "user", "password"}, newMySQLReplica)
}

// replicaWait bounds how long Apply waits for both threads to run and the
// lag to drop under max_lag; replicaPoll is the pause between reads.
var (
	replicaWait = 60 * time.Second
	replicaPoll = time.Second
)

// mysqlReplicaModule makes this server replicate from a primary.
type mysqlReplicaModule struct {
	host     string
	port     int
	user     string
	password string
	gtid     bool
	maxLag   int

	mariadb bool
}

var hostName = regexp.MustCompile(`^[A-Za-z0-9.:-]+$`)

func newMySQLReplica(a *argReader) (Module, error) {
	m := &mysqlReplicaModule{
		host:     a.str("primary_host", ""),
		port:     a.integer("primary_port", 3306, 1, 65535),
		user:     a.str("user", ""),
		password: a.str("password", ""),
		gtid:     a.boolean("gtid", true),
		maxLag:   a.integer("max_lag", 5, 0, 86400),
	}
	if a.err != nil {
		return nil, a.err
	}
	if !hostName.MatchString(m.host) {
		return nil, fmt.Errorf("mysql_replica: argument primary_host: %q is not a host name or address", m.host)
	}
	if m.user == "" || strings.ContainsAny(m.user, "\n\x00") {
		return nil, fmt.Errorf("mysql_replica: argument user: %q is not a user name", m.user)
	}
	return m, nil
}

// replicaReadSQL works on both servers: SHOW REPLICA STATUS exists in
// MariaDB since 10.5.1 and in MySQL since 8.0.22 (which drops SHOW SLAVE
// STATUS in 8.4). Vertical output keeps the column names.
const replicaReadSQL = "SELECT VERSION() AS version;\n" + hostread.ReplicaStatusSQL + ";\n"

// replicaState is one SHOW REPLICA STATUS, with MariaDB's and MySQL's
// column names folded together.
type replicaState struct {
	version    string
	configured bool
	host       string
	port       int
	user       string
	io, sql    string
	lag        *int
	gtid       bool
	lastError  string
}

func (s replicaState) running() bool { return s.io == "Yes" && s.sql == "Yes" }

// parseReplicaStatus reads replicaReadSQL's answer: the version row, then
// the replica's row when one is configured.
func parseReplicaStatus(out string) replicaState {
	var st replicaState
	rows := hostread.ParseVertical(out)
	if len(rows) > 0 {
		st.version = rows[0]["version"]
	}
	if len(rows) < 2 {
		return st
	}
	r := hostread.ReplicaFrom(rows[1])
	st.configured = r.SourceHost != ""
	st.host, st.port, st.user = r.SourceHost, r.SourcePort, r.SourceUser
	st.io, st.sql, st.lag, st.gtid = r.IORunning, r.SQLRunning, r.Lag, r.GTID
	st.lastError = strings.TrimSpace(r.LastIOError + " " + r.LastSQLError)
	return st
}

func (m *mysqlReplicaModule) read(ctx context.Context, t *Target) (replicaState, error) {
	res, err := mysqlOK(ctx, t, "mysql_replica", "--vertical", replicaReadSQL, m.password)
	if err != nil {
		return replicaState{}, err
	}
	st := parseReplicaStatus(string(res.Stdout))
	if st.version == "" {
		return st, fmt.Errorf("mysql_replica: no version in the server's answer")
	}
	return st, nil
}

// inPlace reports whether st already replicates from this primary as asked.
func (m *mysqlReplicaModule) inPlace(st replicaState) bool {
	return st.configured && st.host == m.host && st.port == m.port && st.user == m.user &&
		st.running() && st.gtid == m.gtid
}

// Plan costs one round trip.
func (m *mysqlReplicaModule) Plan(ctx context.Context, t *Target) (Change, error) {
	st, err := m.read(ctx, t)
	if err != nil {
		return Change{}, err
	}
	m.mariadb = isMariaDB(st.version)
	if m.inPlace(st) {
		return Change{}, nil
	}
	line := fmt.Sprintf("replicate from %s:%d as %s", m.host, m.port, m.user)
	if m.gtid {
		line += " (gtid)"
	}
	if st.configured {
		line += fmt.Sprintf(" (now: from %s:%d as %s, io %s, sql %s)", st.host, st.port, st.user, st.io, st.sql)
	}
	return Change{Changed: true, Summary: []string{line}}, nil
}

// changeSQL is the statement batch for the server's dialect; it carries the
// password and therefore only ever travels on stdin.
func (m *mysqlReplicaModule) changeSQL() string {
	port := strconv.Itoa(m.port)
	if m.mariadb {
		use := "no"
		if m.gtid {
			use = "slave_pos"
		}
		return "STOP SLAVE;\nCHANGE MASTER TO MASTER_HOST=" + sqlString(m.host) + ", MASTER_PORT=" + port +
			", MASTER_USER=" + sqlString(m.user) + ", MASTER_PASSWORD=" + sqlString(m.password) +
			", MASTER_USE_GTID=" + use + ";\nSTART SLAVE;\n"
	}
	auto := "0"
	if m.gtid {
		auto = "1"
	}
	// GET_SOURCE_PUBLIC_KEY lets caching_sha2_password work without TLS.
	return "STOP REPLICA;\nCHANGE REPLICATION SOURCE TO SOURCE_HOST=" + sqlString(m.host) + ", SOURCE_PORT=" + port +
		", SOURCE_USER=" + sqlString(m.user) + ", SOURCE_PASSWORD=" + sqlString(m.password) +
		", SOURCE_AUTO_POSITION=" + auto + ", GET_SOURCE_PUBLIC_KEY=1;\nSTART REPLICA;\n"
}

// Apply points the server at the primary and waits, bounded, until both
// threads run and the lag is at most max_lag.
func (m *mysqlReplicaModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	if _, err := mysqlOK(ctx, t, "mysql_replica", "", m.changeSQL(), m.password); err != nil {
		return c, err
	}
	ctx, cancel := context.WithTimeout(ctx, replicaWait)
	defer cancel()
	tick := time.NewTicker(replicaPoll)
	defer tick.Stop()
	for {
		st, err := m.read(ctx, t)
		if err == nil && m.inPlace(st) && st.lag != nil && *st.lag <= m.maxLag {
			return c, nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return c, fmt.Errorf("mysql_replica: verify: %w", err)
			}
			lag := "unknown"
			if st.lag != nil {
				lag = strconv.Itoa(*st.lag) + "s"
			}
			return c, fmt.Errorf("mysql_replica: verify: after %s io %s, sql %s, lag %s (max %ds): %s",
				replicaWait, st.io, st.sql, lag, m.maxLag, redact(st.lastError, m.password))
		case <-tick.C:
		}
	}
}
