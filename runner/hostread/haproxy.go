package hostread

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/internal/shell"
)

// HAProxyRow is one line of HAProxy's `show stat`: a frontend, a backend
// server, or a backend as a whole (Server FRONTEND or BACKEND).
type HAProxyRow struct {
	Proxy    string // pxname
	Server   string // svname
	Status   string // UP, DOWN, MAINT, DRAIN, "no check", "UP 1/2", OPEN, ...
	Check    string // check_status: L7OK, L4CON, ... (empty without checks)
	Sessions int    // scur: current sessions
}

// HAProxyStat reads `show stat` from the runtime API socket.
func HAProxyStat(socket string) Reader[[]HAProxyRow] {
	return Reader[[]HAProxyRow]{
		Name:   "haproxy show stat",
		Script: "echo 'show stat' | socat -t 2 stdio " + shell.Quote(socket),
		Parse:  ParseHAProxyStat,
	}
}

// haproxyColumns are the columns ferry reads, found by name in the header
// (their position changes between HAProxy versions).
var haproxyColumns = []string{"pxname", "svname", "status", "check_status", "scur"}

// ParseHAProxyStat reads `show stat`: a "# pxname,svname,..." header, then
// one CSV row per frontend, server and backend.
func ParseHAProxyStat(text string) ([]HAProxyRow, error) {
	text = strings.TrimLeft(text, " \n")
	if !strings.HasPrefix(text, "# ") {
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		return nil, fmt.Errorf("not a show stat answer: %q", first)
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
	for _, name := range haproxyColumns {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("show stat: no column %s", name)
		}
	}
	var out []HAProxyRow
	for _, row := range rows[1:] {
		get := func(name string) string {
			if i := col[name]; i < len(row) {
				return row[i]
			}
			return ""
		}
		scur, _ := strconv.Atoi(get("scur"))
		out = append(out, HAProxyRow{Proxy: get("pxname"), Server: get("svname"), Status: get("status"), Check: get("check_status"), Sessions: scur})
	}
	return out, nil
}

// HAProxySessionsScript is a shell fragment for scripts that poll on the
// load balancer itself (a drain waits there, without a round trip per
// look): it prints the current sessions of one server, reading the same
// column by name as ParseHAProxyStat does. The arguments are shell
// expressions (such as "$sock") for the socket, backend and server.
func HAProxySessionsScript(socket, backend, server string) string {
	// awk -v would interpret backslashes in the names; ENVIRON does not.
	return `echo "show stat" | socat stdio ` + socket + ` | b=` + backend + ` s=` + server + ` awk -F, '
NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
$col["pxname"] == ENVIRON["b"] && $col["svname"] == ENVIRON["s"] { print $col["scur"] }'`
}
