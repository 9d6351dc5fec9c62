package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/savedplan"
)

// stepLog collects the steps of a run per host (runner.Options.Steps).
type stepLog struct {
	mu    sync.Mutex
	hosts map[string][]runner.Step
}

func newStepLog() *stepLog { return &stepLog{hosts: map[string][]runner.Step{}} }

func (l *stepLog) add(host string, s runner.Step) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hosts[host] = append(l.hosts[host], s)
}

// planInputs hashes what a host's plan depends on besides the host itself:
// its variables (secrets included, hashed only), the -e variables, and the
// roles its plays run (the files of user roles; built-in roles come with
// ferry's version).
func planInputs(p *savedplan.Plan, inv *inventory.Inventory, plays []runner.Play, h *inventory.Host, extra map[string]any) (string, error) {
	vars, err := json.Marshal(inv.VarsFor(h, nil, extra)) // map keys sorted
	if err != nil {
		return "", fmt.Errorf("host %s: variables: %w", h.Name, err)
	}
	parts := [][]byte{vars}
	for _, pl := range plays {
		if !slices.ContainsFunc(pl.Hosts, func(x *inventory.Host) bool { return x.Name == h.Name }) {
			continue
		}
		parts = append(parts, fmt.Appendf(nil, "play %s serial %q max_fail %d", pl.Group, pl.Serial, pl.MaxFailPercentage))
		for _, r := range pl.Roles {
			b, err := roleBytes(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, b...)
		}
	}
	return p.Hash(parts...), nil
}

// roleBytes is every file of a user role, with its name.
func roleBytes(r *roles.Role) ([][]byte, error) {
	if r.Builtin {
		return [][]byte{[]byte("builtin role " + r.Name)}, nil
	}
	var out [][]byte
	err := filepath.WalkDir(filepath.Dir(r.Source), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, []byte(p), b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", r.Name, err)
	}
	return out, nil
}

// writePlan saves the steps of a check run as a plan.
func writePlan(path string, f deployFlags, inv *inventory.Inventory, plays []runner.Play, extra map[string]any, steps *stepLog) error {
	p, err := savedplan.New(version, time.Now())
	if err != nil {
		return err
	}
	if p.Inventory, err = filepath.Abs(inv.Path); err != nil {
		return err
	}
	p.Limit, p.Tags, p.SkipTags = f.limit, f.tags, f.skipTags
	for _, rp := range f.rolesPath {
		abs, err := filepath.Abs(rp)
		if err != nil {
			return err
		}
		p.RolesPath = append(p.RolesPath, abs)
	}
	ev, err := json.Marshal(extra)
	if err != nil {
		return err
	}
	p.Extra = p.Hash(ev)
	for host, ss := range steps.hosts {
		h := inv.Host(host)
		if h == nil {
			continue
		}
		in, err := planInputs(p, inv, plays, h, extra)
		if err != nil {
			return err
		}
		for i := range ss {
			ss[i] = keyStep(p, maskStep(inv, ss[i]))
		}
		p.Hosts[host] = &savedplan.Host{Inputs: in, Steps: ss}
	}
	return p.Write(path)
}

// maskStep masks secrets in the words of a step (its task name, loop item,
// summary and the paths it read), as every output of ferry does; apply masks the steps it
// compares the same way, so that masked and live names match.
func maskStep(inv *inventory.Inventory, s runner.Step) runner.Step {
	s.Task, s.Item = inv.Redact(s.Task), inv.Redact(s.Item)
	if len(s.Summary) > 0 {
		sum := make([]string, len(s.Summary))
		for i, line := range s.Summary {
			sum[i] = inv.Redact(line)
		}
		s.Summary = sum
	}
	if len(s.Reads) > 0 {
		reads := make([]runner.Read, len(s.Reads))
		for i, r := range s.Reads {
			reads[i] = runner.Read{What: inv.Redact(r.What), SHA256: r.SHA256}
		}
		s.Reads = reads
	}
	return s
}

// keyStep replaces the plain hashes of a step (of file content, which may
// be secret) by the plan's keyed hashes, which cannot be looked up.
func keyStep(p *savedplan.Plan, s runner.Step) runner.Step {
	if s.Change != "" {
		s.Change = p.Hash([]byte(s.Change))
	}
	reads := make([]runner.Read, len(s.Reads))
	for i, r := range s.Reads {
		reads[i] = runner.Read{What: r.What, SHA256: p.Hash([]byte(r.SHA256))}
	}
	if len(reads) > 0 {
		s.Reads = reads
	}
	return s
}
