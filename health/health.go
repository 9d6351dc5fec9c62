// Package health answers "is the deployed stack healthy?" for `ferry
// status`: it asks every host, in one round trip each, what the checks of
// the roles want to know, and rates the answers as rows of a table.
//
// The package knows how to ask and how to report; what to ask belongs to
// the roles. Each role declares its Check (the built-in roles' are in
// package roles/support), built on the readers of runner/hostread.
package health

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostread"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// Statuses of a row, from best to worst. Warn is shown but keeps exit 0.
const (
	OK          = "ok"
	Warn        = "warn"
	Fail        = "fail"
	Unreachable = "unreachable"
)

// Rank orders statuses from best (0) to worst.
func Rank(status string) int {
	return map[string]int{OK: 0, Warn: 1, Fail: 2, Unreachable: 3}[status]
}

// Row is one row of the table.
type Row struct {
	Host   string `json:"host"`
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// Check is what one role contributes to the health of the stack.
type Check struct {
	// Role names the role the check belongs to.
	Role string
	// Units are the role's services; each host reports those installed.
	Units []string
	// Script returns the shell the check runs on a host, built from
	// Ask (and guards such as IfCommand); nil or "" reads nothing.
	// It must only read, and must not carry a secret.
	Script func(vars map[string]any) string
	// Host rates one reachable host's answer; nil adds no row.
	Host func(a *Answer, o Options) []Row
	// Across rates all hosts' answers together, after every host's own
	// rows (a floating address held by exactly one host); nil adds none.
	Across func(all []*Answer, o Options) []Row
}

// Options are the user's thresholds and the inventory's global variables.
type Options struct {
	// MaxLag is the replication lag above which a replica is unhealthy.
	MaxLag time.Duration
	// Globals are the inventory's global variables.
	Globals map[string]any
	// Forks bounds how many hosts are asked at once.
	Forks int
	// Timeout bounds connecting to a host; the script gets 20 s more.
	Timeout time.Duration
}

// Answer is what one host answered.
type Answer struct {
	Host *inventory.Host
	// Vars are the host's variables (inventory, groups, host).
	Vars map[string]any
	// Err is set when the host could not be asked.
	Err error
	// Sections are the parts of the script's output, by name.
	Sections map[string]Section
}

// Var returns the host's variable key as a string, or def when unset.
func (a *Answer) Var(key, def string) string { return VarString(a.Vars, key, def) }

// VarString returns vars[key] as a string, or def when unset or empty.
func VarString(vars map[string]any, key, def string) string {
	if v, ok := vars[key]; ok && v != nil && fmt.Sprint(v) != "" {
		return fmt.Sprint(v)
	}
	return def
}

// Row is a row about this answer's host.
func (a *Answer) Row(check, status, detail string) Row {
	return Row{Host: a.Host.Name, Check: check, Status: status, Detail: detail}
}

// Connect opens a connection to one host.
type Connect func(context.Context, *inventory.Host) (executor.Executor, error)

// Run asks every host of hosts, at most o.Forks at once, and returns the
// rows in inventory order: per host its ssh row, its services, then each
// check's rows in the order of checks; then the checks' rows across hosts.
func Run(ctx context.Context, inv *inventory.Inventory, connect Connect, checks []Check, o Options) []Row {
	answers := make([]*Answer, len(inv.Hosts))
	var g errgroup.Group
	g.SetLimit(max(o.Forks, 1))
	for i, h := range inv.Hosts {
		a := &Answer{Host: h, Vars: inv.VarsFor(h, nil, nil)}
		answers[i] = a
		g.Go(func() error {
			a.Sections, a.Err = ask(ctx, connect, a, checks, o.Timeout)
			return nil
		})
	}
	_ = g.Wait() // ask reports into the answers
	return Rate(answers, checks, o)
}

// Rate turns the answers into rows (Run's second half).
func Rate(answers []*Answer, checks []Check, o Options) []Row {
	var rows []Row
	units := unitsOf(checks)
	for _, a := range answers {
		if a.Err != nil {
			rows = append(rows, a.Row("ssh", Unreachable, sshx.Reason(a.Err)+": "+a.Err.Error()))
			continue
		}
		rows = append(rows, a.Row("ssh", OK, "reachable"))
		if s, ok := a.Sections[servicesSection]; ok && len(units) > 0 {
			for _, u := range hostread.ParseUnits(s.Text) {
				st := OK
				if u.Active != "active" {
					st = Fail
				}
				rows = append(rows, a.Row("service "+strings.TrimSuffix(u.ID, ".service"), st, u.Active))
			}
		}
		for _, c := range checks {
			if c.Host != nil {
				rows = append(rows, c.Host(a, o)...)
			}
		}
	}
	for _, c := range checks {
		if c.Across != nil {
			rows = append(rows, c.Across(answers, o)...)
		}
	}
	return rows
}

// Worst is the worst status of rows (OK for none).
func Worst(rows []Row) string {
	worst := OK
	for _, r := range rows {
		if Rank(r.Status) > Rank(worst) {
			worst = r.Status
		}
	}
	return worst
}

// ParseAddr reads an address variable that may carry a prefix length
// ("198.18.0.10" or "198.18.0.10/24").
func ParseAddr(s string) (netip.Addr, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), true
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// FirstLine is the first line of s, for details quoting a tool's error.
func FirstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
