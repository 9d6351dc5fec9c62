// Package report renders a run's events for people (grouped, aligned text)
// or for programs (one JSON object per line, the recap last), and masks
// secrets in everything it prints.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ferry-deploy/ferry/internal/mask"
	"github.com/ferry-deploy/ferry/runner"
)

// New returns the reporter for format "human" or "json". redact masks
// secret values in every string that reaches w; verbose > 0 also prints
// tasks that changed nothing.
func New(format string, w io.Writer, redact func(string) string, verbose int) (runner.Reporter, error) {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	switch format {
	case "", "human":
		return &Human{w: w, redact: redact, verbose: verbose}, nil
	case "json":
		return &JSON{w: w, redact: redact}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human or json)", format)
}

// redactEvent masks every free-text field of an event.
func redactEvent(ev runner.Event, redact func(string) string) runner.Event {
	ev.Message = redact(ev.Message)
	ev.Diff = redactDiff(ev.Diff, redact)
	ev.Item = redact(ev.Item)
	ev.Task = redact(ev.Task)
	if len(ev.Summary) > 0 {
		s := make([]string, len(ev.Summary))
		for i, line := range ev.Summary {
			s[i] = redact(line)
		}
		ev.Summary = s
	}
	return ev
}

// redactDiff masks a unified diff line by line and, where a change's new
// lines hold a secret, masks that change's old lines whole: they hold the
// secret's previous value (a rotated password), which redact cannot know.
func redactDiff(diff string, redact func(string) string) string {
	if diff == "" {
		return diff
	}
	lines := strings.Split(diff, "\n")
	inHunk := false
	for i := 0; i < len(lines); {
		if strings.HasPrefix(lines[i], "@@") {
			inHunk = true
		}
		if !inHunk || !isChangeLine(lines[i]) {
			lines[i] = redact(lines[i])
			i++
			continue
		}
		end := i
		for end < len(lines) && isChangeLine(lines[end]) {
			end++
		}
		secret := false
		for k := i; k < end; k++ {
			masked := redact(lines[k])
			secret = secret || (lines[k][0] == '+' && masked != lines[k])
			lines[k] = masked
		}
		if secret {
			maskOldSide(lines[i:end])
		}
		i = end
	}
	return strings.Join(lines, "\n")
}

// maskOldSide masks the old lines of a change whose new lines hold a
// secret. The n-th old line keeps what it shares at its start with the
// n-th new line ("password = "), which holds no secret.
func maskOldSide(block []string) {
	var olds, news []int
	for k, l := range block {
		if l[0] == '-' {
			olds = append(olds, k)
		} else {
			news = append(news, k)
		}
	}
	for n, k := range olds {
		keep := ""
		if n < len(news) {
			oldL, newL := block[k][1:], block[news[n]][1:]
			j := 0
			for j < len(oldL) && j < len(newL) && oldL[j] == newL[j] {
				j++
			}
			keep = strings.TrimRight(oldL[:j], "*")
		}
		block[k] = "-" + keep + mask.Mask
	}
}

func isChangeLine(l string) bool { return l != "" && (l[0] == '-' || l[0] == '+') }

// JSON writes one JSON object per event, and the recap as the last line.
type JSON struct {
	mu     sync.Mutex
	w      io.Writer
	redact func(string) string
}

// Event writes ev as one line.
func (j *JSON) Event(ev runner.Event) {
	ev = redactEvent(ev, j.redact)
	ev.DurationMS = ev.Duration.Milliseconds()
	j.write(ev)
}

// Recap writes the recap line.
func (j *JSON) Recap(rc runner.Recap) { j.write(rc) }

func (j *JSON) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"event":"error","msg":%q}`, err.Error()))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	// Redact the encoded line too: a secret may sit in a field no one
	// thought of (a registered stdout, a host message).
	fmt.Fprintln(j.w, j.redact(string(b)))
}

// Human prints progress as it happens: a header per play, a line per task
// and host, summaries and diffs indented below, and the recap table.
type Human struct {
	mu      sync.Mutex
	w       io.Writer
	redact  func(string) string
	verbose int
}

// Event prints ev.
func (h *Human) Event(ev runner.Event) {
	ev = redactEvent(ev, h.redact)
	var b strings.Builder
	switch ev.Kind {
	case "play":
		if ev.Status == runner.StatusFailed {
			fmt.Fprintf(&b, "\nSTOPPED %s: %s\n", ev.Play, ev.Message)
			break
		}
		fmt.Fprintf(&b, "\nPLAY %s [%s] on %s\n", ev.Play, ev.Message, strings.Join(ev.Hosts, ", "))
	case "batch":
		fmt.Fprintf(&b, "  %s: %s\n", ev.Message, strings.Join(ev.Hosts, ", "))
	case "host":
		fmt.Fprintf(&b, "  %-12s %-11s %s\n", ev.Host, ev.Status, ev.Message)
	case "drain":
		fmt.Fprintf(&b, "  %-12s %-11s rollout: %s\n", ev.Host, ev.Status, ev.Message)
	case "task", "handler":
		if ev.Status == runner.StatusOK && h.verbose == 0 {
			return
		}
		name := ev.Role + " : " + ev.Task
		if ev.Kind == "handler" {
			name = ev.Role + " : handler " + ev.Task
		}
		if ev.Item != "" {
			name += " (" + ev.Item + ")"
		}
		fmt.Fprintf(&b, "  %-12s %-11s %s\n", ev.Host, ev.Status, clip(name))
		for _, s := range ev.Summary {
			fmt.Fprintf(&b, "      %s\n", clip(s))
		}
		if ev.Message != "" {
			for _, line := range strings.Split(strings.TrimRight(ev.Message, "\n"), "\n") {
				fmt.Fprintf(&b, "      %s\n", clip(line))
			}
		}
		if ev.Diff != "" {
			for _, line := range strings.Split(strings.TrimRight(ev.Diff, "\n"), "\n") {
				fmt.Fprintf(&b, "      %s\n", clip(line))
			}
		}
	default:
		fmt.Fprintf(&b, "  %s %s %s\n", ev.Kind, ev.Host, ev.Message)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	io.WriteString(h.w, b.String())
}

// Recap prints one line per host and the totals.
func (h *Human) Recap(rc runner.Recap) {
	names := make([]string, 0, len(rc.Hosts))
	for n := range rc.Hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	title := "RECAP"
	if rc.Check {
		title = "RECAP (check mode: nothing was changed)"
	}
	if rc.Interrupted {
		title += " (interrupted)"
	}
	fmt.Fprintf(&b, "\n%s\n", title)
	for _, n := range names {
		s := rc.Hosts[n]
		unknown := ""
		if rc.Unknown > 0 {
			unknown = fmt.Sprintf("unknown=%-3d ", s.Unknown)
		}
		fmt.Fprintf(&b, "  %-12s ok=%-3d changed=%-3d failed=%-3d skipped=%-3d %sunreachable=%-5t round_trips=%d\n",
			n, s.OK, s.Changed, s.Failed, s.Skipped, unknown, s.Unreachable, s.RoundTrips)
	}
	unknown := ""
	if rc.Unknown > 0 {
		// Check mode could not predict these: see doc/check-mode.md.
		unknown = fmt.Sprintf(", %d unknown", rc.Unknown)
	}
	fmt.Fprintf(&b, "  %d changed%s, %d failed, %d unreachable in %.2fs\n", rc.Changed, unknown, rc.Failed, rc.Unreachable, float64(rc.DurationMS)/1000)
	h.mu.Lock()
	defer h.mu.Unlock()
	io.WriteString(h.w, b.String())
}

// maxLineBytes bounds one printed line of human output: a command carrying
// a 50 MB value, or a minified file in a diff, is shown by its start and
// its length instead of flooding the terminal. JSON output keeps values
// whole (programs read it).
const maxLineBytes = 400

// clip shortens a line longer than maxLineBytes, at a character boundary.
func clip(line string) string {
	if len(line) <= maxLineBytes {
		return line
	}
	cut := maxLineBytes
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", line[:cut], len(line)-cut)
}
