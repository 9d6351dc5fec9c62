package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// mysqlClient reaches the local server as root over the unix socket, where
// MariaDB and Debian's MySQL authenticate root by the calling user. SQL is
// always fed on stdin: the command line is visible to every local user.
const mysqlClient = "mysql --protocol=socket --user=root --batch --skip-column-names"

// sqlString quotes s as an SQL string literal. Backslashes are escaped too,
// because both servers treat them as escapes by default.
func sqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}

// sqlIdent quotes an identifier with backticks.
func sqlIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// mysqlRows splits batch output into rows of fields, undoing the client's
// escaping of tabs, newlines and backslashes.
func mysqlRows(out string) [][]string {
	var rows [][]string
	un := strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\\`, `\`, `\0`, "\x00")
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		for i := range f {
			f[i] = un.Replace(f[i])
		}
		rows = append(rows, f)
	}
	return rows
}

// mysqlRun feeds sql to the client with extra options. Tool output in an
// error is redacted of the secrets, since the client quotes rejected SQL.
func mysqlRun(ctx context.Context, t *Target, what, opts, sql string, env map[string]string, secrets ...string) (executor.Result, error) {
	res, err := run(ctx, t, what, executor.Command{
		Script: strings.TrimSpace(clientFor(opts) + " " + opts),
		Stdin:  strings.NewReader(sql),
		Env:    env,
		Become: true,
	})
	if err != nil {
		return res, redactErr(err, secrets...)
	}
	return res, nil
}

// clientFor returns the client command line for opts. --vertical output
// is read by column name, which --skip-column-names would remove (recorded
// from MariaDB 10.11's client: it prints values alone under the row marker).
func clientFor(opts string) string {
	if strings.Contains(opts, "--vertical") {
		return strings.Replace(mysqlClient, " --skip-column-names", "", 1)
	}
	return mysqlClient
}

// mysqlOK is mysqlRun where any error from the server is a failure.
func mysqlOK(ctx context.Context, t *Target, what, opts, sql string, secrets ...string) (executor.Result, error) {
	res, err := mysqlRun(ctx, t, what, opts, sql, nil, secrets...)
	if err != nil {
		return res, err
	}
	if !res.OK() {
		return res, fmt.Errorf("%s: exit %d: %s", what, res.ExitCode, redact(tail(res.Stderr, nil), secrets...))
	}
	return res, nil
}

// isMariaDB tells the two dialects apart from SELECT VERSION().
func isMariaDB(version string) bool { return strings.Contains(strings.ToLower(version), "mariadb") }

var mysqlErrorLine = regexp.MustCompile(`^ERROR (\d+)`)

// onlyErrors reports whether every ERROR line in stderr has one of codes;
// used with --force, where expected errors must not hide real ones.
func onlyErrors(stderr string, codes ...string) bool {
	for _, l := range strings.Split(stderr, "\n") {
		if m := mysqlErrorLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			ok := false
			for _, c := range codes {
				ok = ok || m[1] == c
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// mysqlUserCommand wraps the read script; SQL on stdin, secrets in Env.
func mysqlUserCommand(sql string, env map[string]string) executor.Command {
	return executor.Command{Script: mysqlUserReadScript, Stdin: strings.NewReader(sql), Env: env, Become: true}
}
