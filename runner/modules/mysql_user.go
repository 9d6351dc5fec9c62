package modules

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

func init() {
	register("mysql_user", []string{"name", "host", "password", "privileges", "state"}, []string{"name"}, newMySQLUser)
}

// mysqlUserModule manages an account, its password and its privileges.
// Listed privileges are exact per object, and objects not listed lose
// theirs; without privileges they are not managed.
type mysqlUserModule struct {
	name     string
	host     string
	password *string
	privs    map[string][]string // "db.table" -> sorted privileges; nil: not managed
	state    string

	stmts   []string // planned SQL statements
	summary []string
}

func newMySQLUser(a *argReader) (Module, error) {
	m := &mysqlUserModule{
		name:  a.str("name", ""),
		host:  a.str("host", "%"),
		state: a.presence(),
	}
	if a.has("password") {
		p := a.str("password", "")
		m.password = &p
	}
	if a.has("privileges") {
		privs, err := parsePrivileges(a.list("privileges"))
		if err != nil {
			return nil, err
		}
		m.privs = privs
	}
	if a.err != nil {
		return nil, a.err
	}
	if m.name == "" || len(m.name) > 80 || strings.ContainsAny(m.name, "\n\x00") {
		return nil, fmt.Errorf("mysql_user: argument name: %q is not a user name", m.name)
	}
	if m.host == "" || strings.ContainsAny(m.host, "\n\x00") {
		return nil, fmt.Errorf("mysql_user: argument host: %q is not a host pattern", m.host)
	}
	return m, nil
}

var (
	privObject = regexp.MustCompile(`^(\*|[A-Za-z0-9_$]+)\.(\*|[A-Za-z0-9_$]+)$`)
	privWord   = regexp.MustCompile(`^[A-Z][A-Z ]*[A-Z]$`)
)

// privAliases maps the names a server prints to the names a task writes:
// MariaDB shows REPLICATION CLIENT as BINLOG MONITOR, and MySQL accepts
// REPLICATION REPLICA for REPLICATION SLAVE.
var privAliases = map[string]string{
	"ALL":                 "ALL PRIVILEGES",
	"REPLICATION REPLICA": "REPLICATION SLAVE",
	"BINLOG MONITOR":      "REPLICATION CLIENT",
	"REPLICA MONITOR":     "SLAVE MONITOR",
}

func normPriv(p string) string {
	p = strings.Join(strings.Fields(strings.ToUpper(p)), " ")
	if a, ok := privAliases[p]; ok {
		return a
	}
	return p
}

// parsePrivileges reads items "db.table:PRIV,PRIV" into each object's
// sorted privileges, named as the server prints them.
func parsePrivileges(items []string) (map[string][]string, error) {
	privs := map[string][]string{}
	for _, item := range items {
		obj, list, ok := strings.Cut(item, ":")
		// Not quoting item: it may sit next to a password in a
		// templated list, and errors are printed.
		if !ok || !privObject.MatchString(obj) {
			return nil, fmt.Errorf("mysql_user: argument privileges: want \"db.table:PRIV,PRIV\" with db and table names or *")
		}
		for _, p := range strings.Split(list, ",") {
			p = normPriv(p)
			if !privWord.MatchString(p) {
				return nil, fmt.Errorf("mysql_user: argument privileges: %s: %q is not a privilege name", obj, p)
			}
			if !slices.Contains(privs[obj], p) {
				privs[obj] = append(privs[obj], p)
			}
		}
		sort.Strings(privs[obj])
	}
	return privs, nil
}

func (m *mysqlUserModule) account() string { return sqlString(m.name) + "@" + sqlString(m.host) }

// display names the account in summaries.
func (m *mysqlUserModule) display() string { return "'" + m.name + "'@'" + m.host + "'" }

func (m *mysqlUserModule) secrets() []string {
	if m.password == nil {
		return nil
	}
	return []string{*m.password}
}

// readSQL asks for version, existence, password match and grants in one
// batch. The password is compared by the server's own hashing functions:
// the native hash is SHA1(SHA1(pw)), which both servers compute; for MySQL
// 8's salted caching_sha2 hashes, the script tries to log in instead.
func (m *mysqlUserModule) readSQL() string {
	where := " FROM mysql.user WHERE User=" + sqlString(m.name) + " AND Host=" + sqlString(m.host)
	var b strings.Builder
	b.WriteString("SELECT 'version', VERSION();\n")
	b.WriteString("SELECT 'exists', plugin" + where + ";\n")
	if m.password != nil {
		b.WriteString("SET @ferry_pw = " + sqlString(*m.password) + ";\n")
		b.WriteString("SELECT 'native_match', authentication_string = CONCAT('*', UPPER(SHA1(UNHEX(SHA1(@ferry_pw)))))" + where + ";\n")
		b.WriteString("SET @ferry_pw = NULL;\n")
		b.WriteString("SELECT 'need_login', VERSION() NOT LIKE '%MariaDB%' AND plugin = 'caching_sha2_password' AND Host IN ('%', 'localhost')" + where + ";\n")
	}
	b.WriteString("SHOW GRANTS FOR " + m.account() + ";\n")
	return b.String()
}

// readScript runs readSQL and, when the server asks for it, the login
// check. The password reaches the login through the environment
// (FERRY_MYSQL_PW), which the executor delivers over stdin.
const mysqlUserReadScript = `out=$(` + mysqlClient + ` --force); rc=$?
printf '%s\n' "$out"
case "$out" in *"need_login	1"*)
  if MYSQL_PWD="$FERRY_MYSQL_PW" mysql --protocol=socket --user="$FERRY_MYSQL_USER" --batch -e 'SELECT 1' </dev/null >/dev/null 2>&1
  then printf 'login\t1\n'; else printf 'login\t0\n'; fi;;
esac
exit $rc`

type mysqlUserState struct {
	version  string
	exists   bool
	plugin   string
	pwMatch  bool
	canLogin *bool
	grants   map[string][]string
}

var grantLine = regexp.MustCompile(`^GRANT (.+?) ON (\S+) TO `)

func parseMySQLUserRead(out string) mysqlUserState {
	st := mysqlUserState{grants: map[string][]string{}}
	for _, row := range mysqlRows(out) {
		switch {
		case row[0] == "version" && len(row) > 1:
			st.version = row[1]
		case row[0] == "exists" && len(row) > 1:
			st.exists, st.plugin = true, row[1]
		case row[0] == "native_match" && len(row) > 1:
			st.pwMatch = row[1] == "1"
		case row[0] == "login" && len(row) > 1:
			ok := row[1] == "1"
			st.canLogin = &ok
		default:
			g := grantLine.FindStringSubmatch(row[0])
			if g == nil {
				continue
			}
			obj := strings.ReplaceAll(g[2], "`", "")
			for _, p := range strings.Split(g[1], ",") {
				p = normPriv(p)
				if p == "USAGE" || strings.Contains(p, "(") {
					continue
				}
				if !slices.Contains(st.grants[obj], p) {
					st.grants[obj] = append(st.grants[obj], p)
				}
			}
			sort.Strings(st.grants[obj])
		}
	}
	return st
}

func (m *mysqlUserModule) read(ctx context.Context, t *Target) (mysqlUserState, error) {
	env := map[string]string{"FERRY_MYSQL_USER": m.name}
	if m.password != nil {
		env["FERRY_MYSQL_PW"] = *m.password
	}
	res, err := run(ctx, t, "mysql_user "+m.display(), mysqlUserCommand(m.readSQL(), env))
	if err != nil {
		return mysqlUserState{}, redactErr(err, m.secrets()...)
	}
	st := parseMySQLUserRead(string(res.Stdout))
	// --force carries on past "no such grant" (1141) for a missing user;
	// any other error is real.
	if st.version == "" || (!res.OK() && !onlyErrors(string(res.Stderr), "1141")) {
		return st, fmt.Errorf("mysql_user %s: read: exit %d: %s", m.display(), res.ExitCode, redact(tail(res.Stderr, nil), m.secrets()...))
	}
	return st, nil
}

// Plan costs one round trip (none in check mode after an earlier task on
// the same account).
func (m *mysqlUserModule) Plan(ctx context.Context, t *Target) (Change, error) {
	st, err := m.readPredicted(ctx, t)
	if err != nil {
		return Change{}, err
	}
	m.plan(st)
	if len(m.stmts) == 0 {
		return Change{Summary: m.summary}, nil
	}
	return Change{Changed: true, Summary: m.summary, Predict: func(ps *hoststate.State) { m.predict(ps, st) }}, nil
}

func (m *mysqlUserModule) plan(st mysqlUserState) {
	m.stmts, m.summary = nil, nil
	add := func(summary, stmt string) {
		m.summary = append(m.summary, summary)
		m.stmts = append(m.stmts, stmt)
	}
	acct := m.account()
	if m.state == "absent" {
		if st.exists {
			add("drop mysql user "+m.display(), "DROP USER "+acct)
		}
		return
	}
	switch {
	case !st.exists:
		stmt := "CREATE USER " + acct
		if m.password != nil {
			stmt += m.identifiedBy(st)
		}
		add("create mysql user "+m.display(), stmt)
		st.grants = map[string][]string{}
	case m.password != nil && m.unverifiable(st):
		// Saying "changed" on every run would be a lie of its own; the
		// password is set at creation and left alone, and the user is told.
		m.summary = append(m.summary, "password of "+m.display()+" not compared: MySQL 8 caching_sha2 hash for a host that excludes localhost")
	case m.password != nil && !m.passwordMatches(st):
		add("set password of mysql user "+m.display(), "ALTER USER "+acct+m.identifiedBy(st))
	}
	if m.privs == nil {
		return
	}
	for _, obj := range slices.Sorted(maps.Keys(m.privs)) {
		want, have := m.privs[obj], st.grants[obj]
		if slices.Equal(want, have) {
			continue
		}
		if len(have) > 0 {
			m.stmts = append(m.stmts, "REVOKE ALL PRIVILEGES ON "+objectSQL(obj)+" FROM "+acct)
		}
		add(fmt.Sprintf("grant %s on %s to %s (was %s)", strings.Join(want, ", "), obj, m.display(), orNone(have)),
			"GRANT "+strings.Join(want, ", ")+" ON "+objectSQL(obj)+" TO "+acct)
	}
	for _, obj := range slices.Sorted(maps.Keys(st.grants)) {
		if _, ok := m.privs[obj]; !ok {
			add(fmt.Sprintf("revoke %s on %s from %s", strings.Join(st.grants[obj], ", "), obj, m.display()),
				"REVOKE ALL PRIVILEGES ON "+objectSQL(obj)+" FROM "+acct)
		}
	}
}

// unverifiable reports a salted MySQL 8 hash that no login over the socket
// can check, because the account's host pattern excludes localhost.
func (m *mysqlUserModule) unverifiable(st mysqlUserState) bool {
	return !isMariaDB(st.version) && st.plugin == "caching_sha2_password" && st.canLogin == nil
}

// passwordMatches: the login check when the server ran it (salted MySQL 8
// hashes), else the native hash comparison.
func (m *mysqlUserModule) passwordMatches(st mysqlUserState) bool {
	if st.canLogin != nil {
		return *st.canLogin
	}
	return st.pwMatch
}

func objectSQL(obj string) string {
	db, table, _ := strings.Cut(obj, ".")
	q := func(s string) string {
		if s == "*" {
			return s
		}
		return sqlIdent(s)
	}
	return q(db) + "." + q(table)
}

func orNone(p []string) string {
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, ", ")
}

// Apply runs the statements in one batch and verifies with one read.
func (m *mysqlUserModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	sql := strings.Join(m.stmts, ";\n") + ";\n"
	if _, err := mysqlOK(ctx, t, "mysql_user "+m.display(), "", sql, m.secrets()...); err != nil {
		return c, err
	}
	st, err := m.read(ctx, t)
	if err != nil {
		return c, fmt.Errorf("mysql_user %s: verify: %w", m.display(), err)
	}
	if m.plan(st); len(m.stmts) > 0 {
		return c, fmt.Errorf("mysql_user %s: verify: still needs %v", m.display(), m.summary)
	}
	return c, nil
}

// identifiedBy is the password clause. MariaDB writes CREATE/ALTER USER to
// its binary log as sent, so it gets the mysql_native_password hash,
// computed here, and the password itself never reaches the server's logs.
// MySQL 8's default caching_sha2_password hashes with a salt of the
// server's choosing, so it gets the password (MySQL rewrites it in its logs).
func (m *mysqlUserModule) identifiedBy(st mysqlUserState) string {
	if isMariaDB(st.version) {
		return " IDENTIFIED BY PASSWORD " + sqlString(nativePasswordHash(*m.password))
	}
	return " IDENTIFIED BY " + sqlString(*m.password)
}

// nativePasswordHash is mysql_native_password's stored form:
// "*" and the upper-case hex of SHA1(SHA1(password)).
func nativePasswordHash(pw string) string {
	first := sha1.Sum([]byte(pw))
	second := sha1.Sum(first[:])
	return "*" + strings.ToUpper(hex.EncodeToString(second[:]))
}
