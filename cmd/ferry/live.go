package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/adhoc"
	"github.com/ferry-deploy/ferry/runner/progress"
)

// live is the status area of a run, or nil when output is plain: stdout
// is not a terminal, --output json, or --no-progress. Its methods accept a
// nil receiver.
type live struct{ d *progress.Display }

// startLive opens the status area when it is wanted; total is how many host
// completions the run expects.
func startLive(cmd *cobra.Command, output string, noProgress bool, total int, hosts []*inventory.Host) *live {
	if noProgress || output != "human" || !isTerminal(cmd.OutOrStdout()) {
		return nil
	}
	width := 0
	for _, h := range hosts {
		width = max(width, len(h.Name))
	}
	return &live{d: progress.New(cmd.OutOrStdout(), total, width)}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (l *live) adhocProgress() adhoc.Progress {
	if l == nil {
		return nil
	}
	return l.d
}

// writer is where lines go while the area shows: above it.
func (l *live) writer(w io.Writer) io.Writer {
	if l == nil {
		return w
	}
	return l.d
}

func (l *live) close() {
	if l != nil {
		l.d.Close()
	}
}

// liveReporter is deploy's reporter with the status area: the events print
// above the area as they would without it, and the recap prints after the
// area is gone, so it stands alone at the end.
type liveReporter struct {
	runner.Reporter
	l *live
}

func (r *liveReporter) HostStep(host, step string)  { r.l.d.HostStep(host, step) }
func (r *liveReporter) HostFinished(_, host string) { r.l.d.HostDone(host) }
func (r *liveReporter) Recap(rc runner.Recap)       { r.l.close(); r.Reporter.Recap(rc) }
func (r *liveReporter) Event(ev runner.Event)       { r.Reporter.Event(ev) }

var _ runner.Watcher = (*liveReporter)(nil)
