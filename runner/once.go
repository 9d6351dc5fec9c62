package runner

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/ferry-deploy/ferry/roles"
)

// onceSet coordinates run_once tasks among the hosts of one batch. The
// task runs on the first host of the batch, in inventory order, whose play
// is still going when the task is reached (so check mode and the real run
// pick the same host); the others wait for it, register its result and
// share its outcome (a failure there fails them too, as in Ansible).
type onceSet struct {
	mu    sync.Mutex
	cond  *sync.Cond
	order []string        // the batch's hosts, in order
	ended map[string]bool // hosts whose play is over
	runs  map[*roles.Task]*onceRun
}

type onceRun struct {
	host     string
	finished bool
	result   map[string]any
	fatal    bool
}

func newOnceSet(hosts []string) *onceSet {
	s := &onceSet{order: hosts, ended: map[string]bool{}, runs: map[*roles.Task]*onceRun{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// claim returns the task's run once it finished elsewhere, or with
// first=true when host is the one to run it. It waits while a host before
// this one may still reach the task; ctx is checked whenever a host ends.
func (s *onceSet) claim(ctx context.Context, t *roles.Task, host string) (run *onceRun, first bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		if r := s.runs[t]; r != nil {
			if r.finished {
				return r, false, nil
			}
		} else if s.firstAlive() == host {
			r := &onceRun{host: host}
			s.runs[t] = r
			return r, true, nil
		}
		s.cond.Wait()
	}
}

func (s *onceSet) firstAlive() string {
	for _, h := range s.order {
		if !s.ended[h] {
			return h
		}
	}
	return ""
}

func (s *onceSet) finish(r *onceRun) {
	s.mu.Lock()
	r.finished = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// hostEnded lets the next host run the tasks this one will not reach.
func (s *onceSet) hostEnded(host string) {
	s.mu.Lock()
	s.ended[host] = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (e *Engine) runOnce(ctx context.Context, hr *hostRun, t *roles.Task, vars map[string]any, hs *handlerState) outcome {
	run, first, err := hr.once.claim(ctx, t, hr.host.Name)
	if err != nil {
		return listStopped
	}
	if first {
		_, fatal := e.runTask(ctx, hr, t, vars, hs)
		if r, ok := hr.registered[t.Register].(map[string]any); ok && t.Register != "" {
			run.result = maps.Clone(r)
		}
		run.fatal = fatal
		hr.once.finish(run)
		if fatal {
			if hr.stats.Unreachable || hr.stats.Refused {
				return listLost
			}
			return listFailed
		}
		return listDone
	}
	if run.fatal {
		if _, fatal := e.fail(hr, "task", t, "", fmt.Errorf("run_once: it failed on %s", run.host), nil); fatal {
			return listFailed
		}
		return listDone
	}
	if run.result != nil {
		e.register(hr, t, maps.Clone(run.result))
	}
	hr.stats.Skipped++
	e.taskEvent(hr, Event{Kind: "task", Host: hr.host.Name, Role: t.Role.Name, Task: t.Name, Status: StatusSkipped,
		Message: "run_once: ran on " + run.host}, "")
	return listDone
}
