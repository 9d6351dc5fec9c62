package health

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostread"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// The script's output is framed in sections: a marker line opens one, and
// a closing marker carries its command's exit status, on a line of its own
// even when the output has no final newline (Prometheus' JSON).
const (
	openMarker      = "@@ferry-status "
	endMarker       = "@@ferry-status-end "
	servicesSection = "services"
)

// Ask is the shell that runs command as the section name of the host's
// answer, its stderr kept with its stdout.
func Ask(name, command string) string {
	return "sec " + name + "; " + command + " 2>&1; end\n"
}

// IfCommand runs body only on hosts that have the program tool.
func IfCommand(tool, body string) string {
	return "if command -v " + tool + " >/dev/null 2>&1; then\n" + body + "fi\n"
}

// Script is what one host runs for checks: read-only, no secret in it.
func Script(checks []Check, vars map[string]any) string {
	var b strings.Builder
	b.WriteString("LC_ALL=C; export LC_ALL\n")
	b.WriteString(`sec() { echo "` + openMarker + `$1"; }` + "\n")
	b.WriteString(`end() { printf '\n` + endMarker + `%s\n' $?; }` + "\n")
	if units := unitsOf(checks); len(units) > 0 {
		b.WriteString(Ask(servicesSection, hostread.Units(units...).Script))
	}
	for _, c := range checks {
		if c.Script != nil {
			b.WriteString(c.Script(vars))
		}
	}
	return b.String()
}

// unitsOf lists the checks' units in order, each once.
func unitsOf(checks []Check) []string {
	var units []string
	seen := map[string]bool{}
	for _, c := range checks {
		for _, u := range c.Units {
			if !seen[u] {
				seen[u] = true
				units = append(units, u)
			}
		}
	}
	return units
}

// ask runs the script in one round trip, bounded in time so that a hung
// host cannot stall the table.
func ask(ctx context.Context, connect Connect, a *Answer, checks []Check, timeout time.Duration) (map[string]Section, error) {
	x, err := connect(ctx, a.Host)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	if timeout <= 0 {
		timeout = sshx.DefaultConnectTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout+20*time.Second)
	defer cancel()
	res, err := x.Run(rctx, executor.Command{Script: Script(checks, a.Vars), Become: a.Host.Conn.Become})
	if err != nil {
		return nil, err
	}
	return ParseSections(string(res.Stdout)), nil
}

// Section is one section of the script's output.
type Section struct {
	Text string
	RC   int // the exit status of the section's command
}

// ParseSections splits the script's output at its marker lines; a section
// cut short (no closing marker) is dropped.
func ParseSections(out string) map[string]Section {
	secs := map[string]Section{}
	var name string
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(trimmed, endMarker):
			if name != "" {
				rc, _ := strconv.Atoi(strings.TrimPrefix(trimmed, endMarker))
				// end() printed a newline of its own before the marker.
				secs[name] = Section{Text: strings.TrimSuffix(b.String(), "\n"), RC: rc}
			}
			name = ""
			b.Reset()
		case strings.HasPrefix(trimmed, openMarker):
			name = strings.TrimPrefix(trimmed, openMarker)
			b.Reset()
		case name != "":
			b.WriteString(line)
		}
	}
	return secs
}
