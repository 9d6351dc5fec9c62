package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-deploy/ferry/runner/sshx"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// factsFlags are the options of `ferry facts`.
type factsFlags struct {
	output string
	fanoutFlags
}

func newFactsCmd() *cobra.Command {
	var f factsFlags
	cmd := &cobra.Command{
		Use:   "facts PATTERN",
		Short: "Show the facts deploy gathers on the hosts matching a pattern",
		Long: `facts connects to every host matching PATTERN (the patterns of --limit) as
deploy does, reads the facts deploy reads there in one round trip (OS, package
manager, init system, addresses, CPUs, memory, handlers left pending), and
prints them as a table, one row per host, or one JSON object per host with
--output json.
Templates read them as .facts.NAME. Exit code 2 when a host is unreachable.`,
		Example: `  ferry facts all -i lab/inventory.yml
  ferry facts web-01 -i lab/inventory.yml --output json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePatternArg,
		RunE:              func(cmd *cobra.Command, args []string) error { return runFacts(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "human", "output format: human or json (one object per host)")
	f.fanoutFlags.register(fl, "how many hosts are contacted at once")
	registerOutputCompletion(cmd)
	return cmd
}

// hostFacts is one host's answer.
type hostFacts struct {
	Event  string         `json:"event"`
	Host   string         `json:"host"`
	Status string         `json:"status"`
	Facts  map[string]any `json:"facts,omitempty"`
	Msg    string         `json:"msg,omitempty"`
	err    error
}

func runFacts(cmd *cobra.Command, f factsFlags, pattern string) error {
	if err := f.fanoutFlags.check(); err != nil {
		return err
	}
	if err := checkOutputFormat(f.output); err != nil {
		return err
	}
	inv, hosts, err := selectHosts(cmd, pattern)
	if err != nil {
		return err
	}
	connect := f.conn.connector(inv)
	results := make([]hostFacts, len(hosts))
	var g errgroup.Group
	g.SetLimit(f.forks)
	for i, h := range hosts {
		stateDir, _ := inv.VarsFor(h, nil, nil)["ferry_state_dir"].(string)
		g.Go(func() error {
			r := hostFacts{Event: "facts", Host: h.Name, Status: "ok"}
			x, err := connect(cmd.Context(), h)
			if err == nil {
				r.Facts, _, err = gatherFacts(cmd.Context(), x, statedir.Where{Dir: stateDir, Become: h.Conn.Become})
				x.Close()
			}
			if err != nil {
				r.Status, r.Msg, r.err = "unreachable", err.Error(), err
			}
			results[i] = r
			return nil
		})
	}
	_ = g.Wait() // each host reports into results
	w := cmd.OutOrStdout()
	if f.output == "json" {
		err = writeFactsJSON(w, results, inv.Redact)
	} else {
		err = writeFactsHuman(w, results, inv.Redact)
	}
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.err != nil {
			return &exitError{code: exitUnreachable}
		}
	}
	return nil
}

func writeFactsJSON(w io.Writer, results []hostFacts, redact func(string) string) error {
	var b strings.Builder
	for _, r := range results {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.WriteString(redact(string(line)) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// factColumns puts the facts an operator scans first on the left; facts
// not named here follow, sorted.
var factColumns = []string{"hostname", "os_id", "os_version", "os_family", "pkg_mgr", "init", "cpus", "memory_mb", "addresses"}

// writeFactsHuman prints a table: one row per host, one column per fact
// (lists joined with commas, no blanks, "-" when empty); unreachable hosts say so in
// the row.
func writeFactsHuman(w io.Writer, results []hostFacts, redact func(string) string) error {
	cols := slices.Clone(factColumns)
	var extra []string
	for _, r := range results {
		for k := range r.Facts {
			if !slices.Contains(cols, k) && !slices.Contains(extra, k) {
				extra = append(extra, k)
			}
		}
	}
	sort.Strings(extra)
	cols = append(cols, extra...)
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "HOST\t%s\n", strings.ToUpper(strings.Join(cols, "\t")))
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\tunreachable (%s): %s\n", r.Host, sshx.Reason(r.err), r.err)
			continue
		}
		row := []string{r.Host}
		for _, c := range cols {
			v := factText(r.Facts[c])
			if v == "" {
				v = "-"
			}
			row = append(row, v)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	_, err := io.WriteString(w, redact(b.String()))
	return err
}

func factText(v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, ",")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
