package modules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/hoststate"
)

// fakeMySQL puts a stand-in "mysql" first on PATH. The module's scripts run
// for real through the local executor; only the server is replaced, by
// answers in the format the real client prints. Call n reads out.n (or out),
// writes its stdin, argv and environment to stdin.n, args.n and env.n, and
// exits with rc.n.
type fakeMySQL struct {
	t   *testing.T
	dir string
}

func newFakeMySQL(t *testing.T) *fakeMySQL {
	dir := t.TempDir()
	script := fmt.Sprintf(`#!/bin/sh
d=%s
n=$(cat "$d/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$d/n"
cat > "$d/stdin.$n"; printf '%%s\n' "$*" > "$d/args.$n"; env > "$d/env.$n"
f="$d/out.$n"; [ -f "$f" ] || f="$d/out"; [ -f "$f" ] && cat "$f"
[ -f "$d/err.$n" ] && cat "$d/err.$n" >&2
exit $(cat "$d/rc.$n" 2>/dev/null || echo 0)
`, quote(dir))
	writeFile(t, filepath.Join(dir, "mysql"), []byte(script), 0o755)
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return &fakeMySQL{t: t, dir: dir}
}

// answer sets call n's output, stderr and exit code (n 0: every call).
func (f *fakeMySQL) answer(n int, out, stderr string, rc int) {
	suffix := ""
	if n > 0 {
		suffix = fmt.Sprint(".", n)
	}
	f.write("out"+suffix, out)
	if n > 0 {
		f.write(fmt.Sprint("err.", n), stderr)
		f.write(fmt.Sprint("rc.", n), fmt.Sprint(rc))
	}
}

func (f *fakeMySQL) write(name, s string) {
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(s), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeMySQL) read(name string, n int) string {
	b, _ := os.ReadFile(filepath.Join(f.dir, fmt.Sprint(name, ".", n)))
	return string(b)
}

const canary = "canary-s3cret-XYZ"

const mariaVersion = "version\t10.11.6-MariaDB-0+deb12u1\n"

func TestMySQLUserCanaryNeverLeaks(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, rec := localTarget(t)
	ctx := context.Background()
	args := map[string]any{"name": "app", "host": "198.18.0.%", "password": canary, "privileges": []any{"app.*:select,insert", "*.*:REPLICATION CLIENT"}}
	var shown []string
	check := func(c Change, err error) Change {
		t.Helper()
		shown = append(shown, c.Summary...)
		shown = append(shown, c.Diff)
		if err != nil {
			shown = append(shown, err.Error())
		}
		return c
	}

	// 1: the user does not exist; SHOW GRANTS fails with 1141, which is expected.
	fake.answer(1, mariaVersion, "ERROR 1141 (42000) at line 7: There is no such grant defined for user 'app' on host '198.18.0.%'\n", 1)
	m := newModule(t, "mysql_user", args)
	c := check(m.Plan(ctx, tg))
	want := []string{
		"create mysql user 'app'@'198.18.0.%'",
		"grant REPLICATION CLIENT on *.* to 'app'@'198.18.0.%' (was none)",
		"grant INSERT, SELECT on app.* to 'app'@'198.18.0.%' (was none)",
	}
	if strings.Join(c.Summary, "\n") != strings.Join(want, "\n") {
		t.Errorf("summary:\n%s", strings.Join(c.Summary, "\n"))
	}
	if !strings.Contains(fake.read("stdin", 1), "SET @ferry_pw = '"+canary+"'") {
		t.Errorf("password not compared on stdin: %s", fake.read("stdin", 1))
	}

	// 2: the batch; 3: verify read, showing the result in MariaDB's words.
	fake.answer(2, "", "", 0)
	done := mariaVersion + "exists\tmysql_native_password\nnative_match\t1\nneed_login\t0\n" +
		"GRANT BINLOG MONITOR ON *.* TO `app`@`198.18.0.%` IDENTIFIED BY PASSWORD '*0F1E2D'\n" +
		"GRANT SELECT, INSERT ON `app`.* TO `app`@`198.18.0.%`\n"
	fake.answer(3, done, "", 0)
	check(m.Apply(ctx, tg, c))
	batch := fake.read("stdin", 2)
	// MariaDB logs CREATE USER as sent: it gets the hash, never the password.
	if strings.Contains(batch, canary) {
		t.Errorf("the password reached MariaDB in clear:\n%s", batch)
	}
	for _, s := range []string{
		"CREATE USER 'app'@'198.18.0.%' IDENTIFIED BY PASSWORD '" + nativePasswordHash(canary) + "';",
		"GRANT INSERT, SELECT ON `app`.* TO 'app'@'198.18.0.%';",
		"GRANT REPLICATION CLIENT ON *.* TO 'app'@'198.18.0.%';",
	} {
		if !strings.Contains(batch, s) {
			t.Errorf("batch lacks %q:\n%s", s, batch)
		}
	}

	// 4: idempotent.
	fake.answer(4, done, "", 0)
	if again := check(newModule(t, "mysql_user", args).Plan(ctx, tg)); again.Changed {
		t.Errorf("second plan: %v", again.Summary)
	}

	// 5, 6: a wrong password is changed; a server error quoting the SQL is redacted.
	fake.answer(5, strings.Replace(done, "native_match\t1", "native_match\t0", 1), "", 0)
	m = newModule(t, "mysql_user", args)
	c = check(m.Plan(ctx, tg))
	if len(c.Summary) != 1 || c.Summary[0] != "set password of mysql user 'app'@'198.18.0.%'" {
		t.Errorf("summary %v", c.Summary)
	}
	fake.answer(6, "", "ERROR 1064 (42000) at line 1: You have an error in your SQL syntax near '"+canary+"'\n", 1)
	_, err := m.Apply(ctx, tg, c)
	check(Change{}, err)
	if err == nil {
		t.Error("failed batch reported success")
	}

	for i, s := range rec.scripts {
		if strings.Contains(s, canary) {
			t.Errorf("script %d carries the password:\n%s", i, s)
		}
	}
	for n := 1; n <= 6; n++ {
		if strings.Contains(fake.read("args", n), canary) {
			t.Errorf("call %d: password on the command line", n)
		}
	}
	for _, s := range shown {
		if strings.Contains(s, canary) {
			t.Errorf("shown to the user: %q", s)
		}
	}
	if !strings.Contains(strings.Join(shown, "\n"), "********") {
		t.Error("the server's error was not shown (redacted)")
	}
}

func TestMySQLUserLoginCheckOnMySQL8(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, rec := localTarget(t)
	// Call 1 is the read batch, call 2 the login attempt it triggers.
	fake.answer(1, "version\t8.0.36\nexists\tcaching_sha2_password\nnative_match\t0\nneed_login\t1\nGRANT USAGE ON *.* TO `app`@`%`\n", "", 0)
	fake.answer(2, "1\n", "", 0)
	c, err := newModule(t, "mysql_user", map[string]any{"name": "app", "password": canary}).Plan(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Changed {
		t.Errorf("password accepted by the server still planned: %v", c.Summary)
	}
	if !strings.Contains(fake.read("env", 2), "MYSQL_PWD="+canary) || strings.Contains(fake.read("args", 2), canary) {
		t.Error("login check must get the password from the environment only")
	}
	if n := rec.reset(); n != 1 {
		t.Errorf("plan cost %d round trips", n)
	}
}

func TestMySQLUserReadFailure(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, _ := localTarget(t)
	fake.answer(1, "", "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)\n", 1)
	_, err := newModule(t, "mysql_user", map[string]any{"name": "app"}).Plan(context.Background(), tg)
	if err == nil || !strings.Contains(err.Error(), "Can't connect") {
		t.Errorf("err = %v", err)
	}
}

func TestMySQLUserArgs(t *testing.T) {
	spec, _ := Lookup("mysql_user")
	for name, args := range map[string]map[string]any{
		"bad object": {"name": "a", "privileges": []any{"app:SELECT"}},
		"bad priv":   {"name": "a", "privileges": []any{"app.*:SELECT;DROP"}},
		"bad state":  {"name": "a", "state": "gone"},
	} {
		if _, err := spec.New(args); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestParseReplicaStatus(t *testing.T) {
	for file, want := range map[string]string{
		"mariadb_replica_running.txt":  "198.18.0.31:3306 repl Yes/Yes lag=0 gtid=true",
		"mysql8_replica_running.txt":   "198.18.0.31:3306 repl Yes/Yes lag=2 gtid=true",
		"mariadb_replica_io_error.txt": "198.18.0.31:3306 repl Connecting/Yes lag=nil gtid=true",
		"replica_none.txt":             ":0  / lag=nil gtid=false",
		// Recorded from MariaDB 10.11 in the lab (ferry lab ssh db-02).
		"mariadb_10.11_recorded_lab.txt": "198.18.0.31:3306 repl Yes/Yes lag=0 gtid=true",
	} {
		b, err := os.ReadFile("testdata/mysql/" + file)
		if err != nil {
			t.Fatal(err)
		}
		st := parseReplicaStatus(string(b))
		lag := "nil"
		if st.lag != nil {
			lag = fmt.Sprint(*st.lag)
		}
		got := fmt.Sprintf("%s:%d %s %s/%s lag=%s gtid=%v", st.host, st.port, st.user, st.io, st.sql, lag, st.gtid)
		if got != want {
			t.Errorf("%s: %s, want %s", file, got, want)
		}
		if st.version == "" {
			t.Errorf("%s: no version", file)
		}
	}
}

func TestMySQLReplica(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, rec := localTarget(t)
	ctx := context.Background()
	args := map[string]any{"primary_host": "198.18.0.31", "user": "repl", "password": canary}
	running, _ := os.ReadFile("testdata/mysql/mariadb_replica_running.txt")
	broken, _ := os.ReadFile("testdata/mysql/mariadb_replica_io_error.txt")

	fake.answer(1, string(running), "", 0)
	if c, err := newModule(t, "mysql_replica", args).Plan(ctx, tg); err != nil || c.Changed {
		t.Fatalf("running replica: %+v %v", c, err)
	}
	if n := rec.reset(); n != 1 {
		t.Errorf("no-op plan cost %d round trips", n)
	}

	fake.answer(2, string(broken), "", 0)
	m := newModule(t, "mysql_replica", args)
	c, err := m.Plan(ctx, tg)
	if err != nil || !c.Changed {
		t.Fatalf("broken replica: %+v %v", c, err)
	}
	if want := "replicate from 198.18.0.31:3306 as repl (gtid) (now: from 198.18.0.31:3306 as repl, io Connecting, sql Yes)"; c.Summary[0] != want {
		t.Errorf("summary %q", c.Summary[0])
	}
	fake.answer(3, "", "", 0)
	fake.answer(4, string(running), "", 0)
	if _, err := m.Apply(ctx, tg, c); err != nil {
		t.Fatal(err)
	}
	sql := fake.read("stdin", 3)
	if !strings.Contains(sql, "CHANGE MASTER TO MASTER_HOST='198.18.0.31', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='"+canary+"', MASTER_USE_GTID=slave_pos;") {
		t.Errorf("sql:\n%s", sql)
	}
	for _, s := range rec.scripts {
		if strings.Contains(s, canary) {
			t.Errorf("script carries the password: %s", s)
		}
	}
}

func TestMySQLReplicaSQLForMySQL8(t *testing.T) {
	m := newModule(t, "mysql_replica", map[string]any{"primary_host": "db-01", "primary_port": "3307", "user": "repl", "password": "x'y"}).(*mysqlReplicaModule)
	want := "STOP REPLICA;\nCHANGE REPLICATION SOURCE TO SOURCE_HOST='db-01', SOURCE_PORT=3307, SOURCE_USER='repl', SOURCE_PASSWORD='x\\'y', SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1;\nSTART REPLICA;\n"
	if got := m.changeSQL(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMySQLQuery(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, _ := localTarget(t)
	ctx := context.Background()
	args := map[string]any{"sql": "CREATE DATABASE app", "unless": "SHOW DATABASES LIKE 'app'", "database": "mysql"}
	fake.answer(1, "app\n", "", 0)
	if c, err := newModule(t, "mysql_query", args).Plan(ctx, tg); err != nil || c.Changed {
		t.Fatalf("existing: %+v %v", c, err)
	}
	if fake.read("stdin", 1) != "SHOW DATABASES LIKE 'app'" || !strings.Contains(fake.read("args", 1), "--database=mysql") {
		t.Errorf("unless ran as %q %q", fake.read("stdin", 1), fake.read("args", 1))
	}
	fake.answer(2, "", "", 0)
	m := newModule(t, "mysql_query", args)
	c, err := m.Plan(ctx, tg)
	if err != nil || !c.Changed || c.Summary[0] != "run sql: CREATE DATABASE app" {
		t.Fatalf("missing: %+v %v", c, err)
	}
	fake.answer(3, "", "ERROR 1007 (HY000) at line 1: Can't create database 'app'; database exists\n", 1)
	if _, err := m.Apply(ctx, tg, c); err == nil || !strings.Contains(err.Error(), "database exists") {
		t.Errorf("err = %v", err)
	}
	s := newModule(t, "mysql_query", map[string]any{"sql": "ALTER USER x IDENTIFIED BY 'pw'"}).(*mysqlQueryModule).describe()
	if strings.Contains(s, "pw") {
		t.Errorf("summary shows the statement: %s", s)
	}
}

func TestMySQLUserUnverifiablePasswordIsNotAChange(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, _ := localTarget(t)
	fake.answer(1, "version\t8.0.36\nexists\tcaching_sha2_password\nnative_match\t0\nneed_login\t0\n", "", 0)
	c, err := newModule(t, "mysql_user", map[string]any{"name": "app", "host": "198.18.0.%", "password": canary}).Plan(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Changed || len(c.Summary) != 1 || !strings.Contains(c.Summary[0], "not compared") {
		t.Errorf("change %+v", c)
	}
}

func TestNativePasswordHash(t *testing.T) {
	// MySQL's and MariaDB's PASSWORD('password').
	if got, want := nativePasswordHash("password"), "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"; got != want {
		t.Errorf("nativePasswordHash = %s, want %s", got, want)
	}
}

// In check mode a mysql_user task plans against the account an earlier one
// creates or changes, without asking the server; the password is compared
// by a hash of it, and never kept in clear text. After SQL check mode does
// not predict, accounts are unknown.
func TestMySQLUserPlanAgainstPrediction(t *testing.T) {
	fake := newFakeMySQL(t)
	tg, _ := localTarget(t)
	st := predicting(tg)
	ctx := context.Background()
	fake.answer(1, mariaVersion+"native_match\t0\n", "ERROR 1141 (42000) at line 6: There is no such grant defined for user 'app' on host '%'\n", 1)
	args := func(pw string, privs ...any) map[string]any {
		return map[string]any{"name": "app", "password": pw, "privileges": privs}
	}
	first, err := newModule(t, "mysql_user", args(canary, "app.*:SELECT,INSERT")).Plan(ctx, tg)
	if err != nil || !first.Changed || first.Predict == nil {
		t.Fatalf("create: %+v %v", first, err)
	}
	first.Predict(st)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{args(canary, "app.*:INSERT,SELECT"), ""},
		{args("another-"+canary, "app.*:SELECT,INSERT"), "set password of mysql user 'app'@'%'"},
		{args(canary, "app.*:SELECT"), "grant SELECT on app.* to 'app'@'%' (was INSERT, SELECT)"},
		{map[string]any{"name": "app", "state": "absent"}, "drop mysql user 'app'@'%'"},
	} {
		c, err := newModule(t, "mysql_user", tc.args).Plan(ctx, tg)
		if err != nil || strings.Join(c.Summary, ",") != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.args["privileges"], c.Summary, err, tc.want)
		}
	}
	if n := fake.read("args", 2); n != "" {
		t.Errorf("plans against the prediction asked the server: %q", n)
	}
	for _, v := range []string{"app@%"} {
		if f, _ := st.Fact(mysqlUserFact, v); strings.Contains(f, canary) {
			t.Errorf("the prediction holds the password in clear text: %s", f)
		}
	}
	st.Touch(MySQLKind, `task "schema" runs SQL`)
	var unknown *hoststate.UnknownError
	if _, err := newModule(t, "mysql_user", args(canary, "app.*:SELECT,INSERT")).Plan(ctx, tg); !errors.As(err, &unknown) {
		t.Errorf("after SQL check mode does not predict: %v, want unknown", err)
	}
}
