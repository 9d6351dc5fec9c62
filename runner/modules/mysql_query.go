package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

func init() {
	register("mysql_query", []string{"sql", "unless", "database"}, []string{"sql"}, newMySQLQuery)
}

var (
	dbName      = regexp.MustCompile(`^[A-Za-z0-9_$]+$`)
	looksSecret = regexp.MustCompile(`(?i)identified|password`)
)

// sqlSummaryLen bounds how much of a statement a summary quotes.
const sqlSummaryLen = 60

// mysqlQueryModule runs SQL unless a query says it has already been done.
type mysqlQueryModule struct {
	sql      string
	unless   string
	database string
}

func newMySQLQuery(a *argReader) (Module, error) {
	m := &mysqlQueryModule{sql: a.str("sql", ""), unless: a.str("unless", ""), database: a.str("database", "")}
	if a.err != nil {
		return nil, a.err
	}
	if strings.TrimSpace(m.sql) == "" {
		return nil, fmt.Errorf("mysql_query: argument sql: empty")
	}
	if m.database != "" && !dbName.MatchString(m.database) {
		return nil, fmt.Errorf("mysql_query: argument database: %q is not a database name", m.database)
	}
	return m, nil
}

func (m *mysqlQueryModule) opts() string {
	if m.database == "" {
		return ""
	}
	return "--database=" + m.database
}

// describe names the SQL in a summary without showing what might be a
// password: statements that look like they carry one are not quoted.
func (m *mysqlQueryModule) describe() string {
	if looksSecret.MatchString(m.sql) {
		return "run sql (not shown: it mentions a password)"
	}
	s := strings.Join(strings.Fields(m.sql), " ")
	if len(s) > sqlSummaryLen {
		s = s[:sqlSummaryLen] + "..."
	}
	return "run sql: " + s
}

// Plan costs one round trip with unless, none without.
func (m *mysqlQueryModule) Plan(ctx context.Context, t *Target) (Change, error) {
	run := Change{Changed: true, Summary: []string{m.describe()}}
	if m.unless == "" {
		return run, nil
	}
	res, err := mysqlOK(ctx, t, "mysql_query unless", m.opts(), m.unless)
	if err != nil {
		return Change{}, err
	}
	if len(mysqlRows(string(res.Stdout))) > 0 {
		return Change{Summary: []string{"skip: unless returned a row"}}, nil
	}
	return run, nil
}

// Apply runs the SQL; its output is returned for register.
func (m *mysqlQueryModule) Apply(ctx context.Context, t *Target, c Change) (Change, error) {
	res, err := mysqlOK(ctx, t, "mysql_query", m.opts(), m.sql)
	c.Output = &res
	return c, err
}
