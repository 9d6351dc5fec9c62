// Package progress draws ferry's live status area on a terminal: one line
// per running host with its current step and how long the host has been at
// it, and a line counting the hosts done. Lines printed while it runs (task
// results) scroll above the area. It is built on mpb, which owns the cursor
// movements; callers use it only when stdout is a terminal.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Display is a live status area. Its methods are safe for concurrent use.
type Display struct {
	out   io.Writer
	p     *mpb.Progress
	total *mpb.Bar
	width int // widest host name, so steps line up

	// Decorators run on mpb's goroutines while mpb calls may block on
	// them, so what they read is atomic and mu is never held around a
	// call into mpb.
	done, running atomic.Int64
	all           int

	mu     sync.Mutex
	hosts  map[string]*hostLine
	closed bool
}

// hostLine is one running host's line.
type hostLine struct {
	bar  *mpb.Bar
	step atomic.Pointer[string]
}

// New starts a status area on w (a terminal) for a run that expects total
// host completions; width is the longest host name.
func New(w io.Writer, total, width int) *Display {
	d := &Display{out: w, hosts: map[string]*hostLine{}, all: total, width: width}
	// A writer that is no terminal (a test's buffer) still gets every
	// line, drawn without cursor movements.
	tty := mpb.WithAutoRefresh()
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = mpb.ForceTTY()
	}
	d.p = mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(150*time.Millisecond), tty)
	d.total = d.p.New(int64(max(total, 1)), mpb.NopStyle(),
		mpb.BarPriority(1<<30), // always the last line
		mpb.PrependDecorators(
			decor.Any(func(decor.Statistics) string { return d.doneText() }),
			decor.Elapsed(decor.ET_STYLE_GO, decor.WC{C: decor.DextraSpace}),
		),
	)
	return d
}

func (d *Display) doneText() string {
	return fmt.Sprintf("hosts done %d/%d, running %d,", d.done.Load(), d.all, d.running.Load())
}

// Write prints p above the status area (whole lines; it is flushed at the
// next refresh). After Close it writes straight to the terminal.
func (d *Display) Write(p []byte) (int, error) {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return d.out.Write(p)
	}
	n, err := d.p.Write(p)
	if err != nil { // the area shut down meanwhile
		return d.out.Write(p)
	}
	return n, err
}

// HostStep shows host at step, adding its line when it is new; an empty
// step takes the line away (the host waits) without counting it done.
func (d *Display) HostStep(host, step string) {
	if step == "" {
		d.remove(host)
		return
	}
	if !d.lockIfOpen() {
		return
	}
	defer d.mu.Unlock()
	if h, ok := d.hosts[host]; ok {
		h.step.Store(&step)
		return
	}
	h := &hostLine{}
	h.step.Store(&step)
	d.running.Add(1)
	// mpb.New only queues the bar: it does not wait on a decorator.
	h.bar = d.p.New(1, mpb.NopStyle(), mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(
			decor.Name(host, decor.WC{W: d.width + 2, C: decor.DindentRight}),
			decor.Elapsed(decor.ET_STYLE_MMSS, decor.WC{W: 6, C: decor.DindentRight}),
			decor.Any(func(decor.Statistics) string { return " " + *h.step.Load() }),
		),
	)
	d.hosts[host] = h
}

// HostDone removes host's line and counts it done.
func (d *Display) HostDone(host string) {
	if d.remove(host) {
		done := d.done.Add(1)
		d.total.SetCurrent(min(done, int64(d.all)))
	}
}

// lockIfOpen locks mu and reports true while the area is open; once it is
// closed it leaves mu unlocked and reports false.
func (d *Display) lockIfOpen() bool {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return false
	}
	return true
}

// remove takes host's line away; false once the area is closed.
func (d *Display) remove(host string) bool {
	if !d.lockIfOpen() {
		return false
	}
	h, ok := d.hosts[host]
	delete(d.hosts, host)
	d.mu.Unlock()
	if ok {
		d.running.Add(-1)
		h.bar.SetTotal(-1, true)
	}
	return true
}

// Close removes the status area's host lines, leaves the count, and
// returns once everything written before has reached the terminal.
func (d *Display) Close() {
	if !d.lockIfOpen() {
		return
	}
	left := d.hosts
	d.hosts = map[string]*hostLine{}
	d.mu.Unlock()
	for _, h := range left {
		h.bar.Abort(true)
	}
	d.total.SetTotal(-1, true)
	d.p.Wait()
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}
