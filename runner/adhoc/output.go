package adhoc

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-deploy/ferry/runner/sshx"
)

// Block is the output some hosts share: with collapsing, hosts whose
// stdout, stderr and exit status are the same print once, headed by the
// host list, as clustershell's clubak does.
type Block struct {
	Hosts  []string
	Result Result // the first host's; Host and Duration are its own
}

// Collapse groups results with identical output, in the order each output
// first appears. Without collapse every host has its own block.
func Collapse(results []Result, collapse bool) []Block {
	var blocks []Block
	index := map[string]int{}
	for _, r := range results {
		key := r.Stdout + "\x00" + r.Stderr + "\x00" + fmt.Sprint(r.ExitCode) + "\x00" + status(r)
		if r.Err != nil {
			key += "\x00" + r.Err.Error()
		}
		if i, ok := index[key]; ok && collapse {
			blocks[i].Hosts = append(blocks[i].Hosts, r.Host)
			continue
		}
		index[key] = len(blocks)
		blocks = append(blocks, Block{Hosts: []string{r.Host}, Result: r})
	}
	return blocks
}

// Summary counts the outcomes.
type Summary struct{ OK, Failed, Unreachable int }

// Summarize counts results by outcome.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch {
		case r.Err != nil:
			s.Unreachable++
		case r.ExitCode != 0:
			s.Failed++
		default:
			s.OK++
		}
	}
	return s
}

func status(r Result) string {
	switch {
	case r.Err != nil:
		return "unreachable"
	case r.ExitCode != 0:
		return "failed"
	}
	return "ok"
}

// WriteHuman prints one block per distinct output: a rule naming the hosts
// and their exit status, stdout, then stderr marked as such; then a summary
// line. Everything passes through redact.
func WriteHuman(w io.Writer, blocks []Block, sum Summary, redact func(string) string) error {
	var b strings.Builder
	for _, bl := range blocks {
		r := bl.Result
		head := strings.Join(bl.Hosts, ", ")
		if len(bl.Hosts) > 1 {
			head += fmt.Sprintf(" (%d hosts)", len(bl.Hosts))
		}
		switch {
		case r.Err != nil:
			head += ": unreachable (" + sshx.Reason(r.Err) + ")"
		default:
			head += fmt.Sprintf(": exit %d", r.ExitCode)
		}
		fmt.Fprintf(&b, "---- %s\n", head)
		if r.Err != nil {
			fmt.Fprintf(&b, "%s\n", r.Err)
			continue
		}
		writeText(&b, r.Stdout, "")
		writeText(&b, r.Stderr, "stderr: ")
	}
	fmt.Fprintf(&b, "%d ok, %d failed, %d unreachable\n", sum.OK, sum.Failed, sum.Unreachable)
	_, err := io.WriteString(w, redact(b.String()))
	return err
}

func writeText(b *strings.Builder, text, prefix string) {
	if text == "" {
		return
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
}

// hostEvent is the JSON line of one host: ferry's event stream shape, so
// tools that read deploy's NDJSON read it too.
type hostEvent struct {
	Event      string `json:"event"`
	Host       string `json:"host"`
	Status     string `json:"status"`
	RC         int    `json:"rc"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	Message    string `json:"msg,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// RoundTrips counts the executor calls the host cost, as deploy's
	// recap does (bench/scale/run.sh reports it per host).
	RoundTrips int `json:"round_trips"`
}

// recapEvent is the last line.
type recapEvent struct {
	Event       string `json:"event"`
	OK          int    `json:"ok"`
	Failed      int    `json:"failed"`
	Unreachable int    `json:"unreachable"`
}

// WriteJSON prints one JSON object per host, in host order, and a recap
// line last. Each encoded line passes through redact.
func WriteJSON(w io.Writer, results []Result, redact func(string) string) error {
	var b strings.Builder
	for _, r := range results {
		// Fields are masked before encoding, where a secret still reads as
		// it was written, and the line again after.
		ev := hostEvent{Event: "run", Host: r.Host, Status: status(r), RC: r.ExitCode,
			Stdout: redact(r.Stdout), Stderr: redact(r.Stderr), DurationMS: r.Duration.Milliseconds(), RoundTrips: r.Calls}
		if r.Err != nil {
			ev.Message = redact(r.Err.Error())
		}
		line(&b, ev, redact)
	}
	s := Summarize(results)
	line(&b, recapEvent{Event: "recap", OK: s.OK, Failed: s.Failed, Unreachable: s.Unreachable}, redact)
	_, err := io.WriteString(w, b.String())
	return err
}

func line(b *strings.Builder, v any, redact func(string) string) {
	enc, err := json.Marshal(v)
	if err != nil {
		enc = []byte(fmt.Sprintf(`{"event":"error","msg":%q}`, err.Error()))
	}
	// The encoded line is redacted as a whole too, as deploy's JSON is.
	b.WriteString(redact(string(enc)) + "\n")
}
