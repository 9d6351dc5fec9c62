package runner

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ferry-deploy/ferry/runner/executor"
)

// One round trip per host: the plan of a host (planfirst.go) runs through
// a prefetch executor. A first pass answers no read: each read the tasks
// make is noted and fails with errNotFetched, which the engine takes, while
// collecting, for a task with nothing to do. The noted reads then go to the
// host as one batch (executor.BatchReader) and come back together, and the
// plan runs again from what they brought. A pass that needed nothing it did
// not have is the plan; reads that depend on earlier answers (a task's when
// on a registered result, a file read after its stat) take another pass and
// batch. After maxCollectPasses, or without a batch reader, reads go to the
// host one at a time.

// errNotFetched fails a read the prefetch has no answer for yet.
var errNotFetched = errors.New("read not fetched yet (collecting the plan's reads)")

// maxCollectPasses bounds the batches one host's plan may take. A pass
// re-plans the host in memory, far cheaper than a round trip; MariaDB's
// reads chain (version, then accounts, then grants, then replication), so
// that 3 passes left the lab's db-01 with 12 single reads and 8 leave none.
const maxCollectPasses = 8

type readKey struct {
	kind   executor.ReadKind
	path   string
	become bool
	script string
	env    string // the environment, sorted, one quoted NAME=value a line
	stdin  string
}

// keyOf names a read; batchable is false for a command whose stdin the
// batch cannot carry (executor.BatchStdin).
func keyOf(r executor.Read) (k readKey, batchable bool) {
	k = readKey{kind: r.Kind, path: r.Path, become: r.Become, script: r.Cmd.Script}
	if r.Kind != executor.ReadRun {
		return k, true
	}
	in, ok := executor.BatchStdin(r.Cmd)
	k.stdin = string(in)
	names := slices.Sorted(maps.Keys(r.Cmd.Env))
	var env strings.Builder
	for _, n := range names {
		// Quoted: a value holding "\nB=2" must not read as a second variable.
		env.WriteString(strconv.Quote(n) + "=" + strconv.Quote(r.Cmd.Env[n]) + "\n")
	}
	k.env = env.String()
	return k, ok
}

// prefetch answers a planning host's reads from its batches.
type prefetch struct {
	executor.Executor // the host's counting executor: single reads
	batch             func(ctx context.Context, reads []executor.Read) ([]executor.ReadAnswer, error)

	mu      sync.Mutex
	collect bool
	answers map[readKey]executor.ReadAnswer
	missed  []executor.Read
	noted   map[readKey]bool
}

// newPrefetch returns the prefetch of x, nil when x cannot batch reads.
func newPrefetch(x *countingExecutor) *prefetch {
	b, ok := x.Executor.(executor.BatchReader)
	if !ok {
		return nil
	}
	return &prefetch{Executor: x, answers: map[readKey]executor.ReadAnswer{},
		batch: func(ctx context.Context, reads []executor.Read) ([]executor.ReadAnswer, error) {
			x.calls.Add(1) // one exchange (two when reads differ in become)
			return b.ReadBatch(ctx, reads)
		}}
}

// pass starts a plan pass; collect says whether unanswered reads are noted
// (true) or made one at a time.
func (p *prefetch) pass(collect bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.collect, p.missed, p.noted = collect, nil, map[readKey]bool{}
}

// complete reports whether the pass had an answer for every read.
func (p *prefetch) complete() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.missed) == 0
}

// fetch asks the host, in one batch, for the reads the pass noted.
func (p *prefetch) fetch(ctx context.Context) error {
	p.mu.Lock()
	reads := p.missed
	p.mu.Unlock()
	answers, err := p.batch(ctx, reads)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range reads {
		k, _ := keyOf(r)
		p.answers[k] = answers[i]
	}
	return nil
}

// answer returns the answer to r; ok=false with errNotFetched when it is
// collecting and has none; ok=false, nil when r must be read on its own.
func (p *prefetch) answer(r executor.Read) (executor.ReadAnswer, bool, error) {
	k, batchable := keyOf(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.answers[k]; ok {
		return a, !a.Skipped, nil
	}
	if !p.collect || !batchable {
		return executor.ReadAnswer{}, false, nil
	}
	if !p.noted[k] {
		p.noted[k] = true
		p.missed = append(p.missed, r)
	}
	return executor.ReadAnswer{}, false, errNotFetched
}

func (p *prefetch) Stat(ctx context.Context, path string, become bool) (executor.FileInfo, error) {
	a, ok, err := p.answer(executor.Read{Kind: executor.ReadStat, Path: path, Become: become})
	switch {
	case err != nil:
		return executor.FileInfo{}, err
	case ok:
		return a.Info, a.Err
	}
	return p.Executor.Stat(ctx, path, become)
}

func (p *prefetch) ReadFile(ctx context.Context, path string, become bool) ([]byte, error) {
	a, ok, err := p.answer(executor.Read{Kind: executor.ReadContent, Path: path, Become: become})
	switch {
	case err != nil:
		return nil, err
	case ok:
		return a.Content, a.Err
	}
	return p.Executor.ReadFile(ctx, path, become)
}

func (p *prefetch) Run(ctx context.Context, cmd executor.Command) (executor.Result, error) {
	a, ok, err := p.answer(executor.Read{Kind: executor.ReadRun, Become: cmd.Become, Cmd: cmd})
	switch {
	case err != nil:
		return executor.Result{}, err
	case ok:
		return a.Result, a.Err
	}
	return p.Executor.Run(ctx, cmd)
}

// Close leaves the host's connection to the engine.
func (p *prefetch) Close() error { return nil }
