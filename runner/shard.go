package runner

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
)

// Shard names one of Count deterministic slices of a deploy's hosts
// (`ferry deploy --shard Index/Count`, Index from 1), so that Count
// processes, on as many machines, together deploy every host exactly once.
type Shard struct{ Index, Count int }

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads "I/N" with 1 <= I <= N.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, ierr := strconv.Atoi(is)
	n, nerr := strconv.Atoi(ns)
	if !ok || ierr != nil || nerr != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("--shard %q: want I/N, the I-th of N slices, with 1 <= I <= N (such as 1/4)", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// SliceShard keeps the hosts of plays that fall in shard s. The slices of
// 1/N to N/N hold every host of plays exactly once, and are balanced by
// their number of hosts; every process computing them from the same plays
// gets the same slices (they depend on nothing else).
//
// Hosts that must run together stay together: a serial batch (whose
// max_fail_percentage and drains are judged per batch), and the batch of a
// play with a run_once task (the task runs once for the whole batch). A host
// in several plays ties those units together. In a kept slice a serial play
// gets its batch size as a count, so that its batches are exactly the
// batches of the whole run (a percentage of fewer hosts would not be).
// Plays left without hosts are dropped.
func SliceShard(plays []Play, s Shard) ([]Play, error) {
	if s.Count < 1 || s.Index < 1 || s.Index > s.Count {
		return nil, fmt.Errorf("shard %s: want 1 <= I <= N", s)
	}
	units := newUnionFind()
	sizes := make([]int, len(plays)) // each play's batch size, 0: no batches kept
	for pi, p := range plays {
		for _, h := range p.Hosts {
			units.add(h.Name)
		}
		if !keepsBatches(p) {
			continue
		}
		bs, err := batches(p.Hosts, p.Serial)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", p.Group, err)
		}
		sizes[pi] = len(bs[0])
		for _, b := range bs {
			for _, h := range b[1:] {
				units.union(b[0].Name, h.Name)
			}
		}
	}
	mine := units.assign(s.Count)
	var out []Play
	for pi, p := range plays {
		var hosts []*inventory.Host
		for _, h := range p.Hosts {
			if mine[units.find(h.Name)] == s.Index-1 {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) == 0 {
			continue
		}
		p.Hosts = hosts
		if sizes[pi] > 0 && !p.Serial.IsZero() {
			p.Serial = inventory.Serial{Count: sizes[pi]}
		}
		out = append(out, p)
	}
	return out, nil
}

// keepsBatches tells whether a play's batches must stay whole in one
// shard: it is rolled out in batches (serial), or it has a run_once task.
func keepsBatches(p Play) bool {
	if !p.Serial.IsZero() {
		return true
	}
	for _, r := range p.Roles {
		for _, t := range slices.Concat(roles.Flatten(r.Tasks), roles.Flatten(r.Handlers)) {
			if t.RunOnce {
				return true
			}
		}
	}
	return false
}

// unionFind groups host names into the units a shard takes whole; order
// keeps the names in the order they were first seen (the plays' order).
type unionFind struct {
	parent map[string]string
	order  []string
}

func newUnionFind() *unionFind { return &unionFind{parent: map[string]string{}} }

func (u *unionFind) add(name string) {
	if _, ok := u.parent[name]; !ok {
		u.parent[name] = name
		u.order = append(u.order, name)
	}
}

func (u *unionFind) find(name string) string {
	for u.parent[name] != name {
		u.parent[name] = u.parent[u.parent[name]]
		name = u.parent[name]
	}
	return name
}

// union puts a and b in one unit.
func (u *unionFind) union(a, b string) {
	if ra, rb := u.find(a), u.find(b); ra != rb {
		u.parent[rb] = ra
	}
}

// assign spreads the units over n shards (0-based), the largest first,
// each to the shard with the fewest hosts so far (the lowest index on a
// tie): the shards' sizes then differ by at most the largest unit, and
// by at most one host when every unit is one host.
func (u *unionFind) assign(n int) map[string]int {
	size := map[string]int{}
	// Units in the order of their first host (not of their root, which
	// depends on the order of the unions).
	var rootsSeen []string
	for _, name := range u.order {
		r := u.find(name)
		if size[r] == 0 {
			rootsSeen = append(rootsSeen, r)
		}
		size[r]++
	}
	// Stable: units of the same size keep the order of their first host.
	slices.SortStableFunc(rootsSeen, func(a, b string) int { return cmp.Compare(size[b], size[a]) })
	load := make([]int, n)
	out := make(map[string]int, len(rootsSeen))
	for _, r := range rootsSeen {
		best := 0
		for i := range load {
			if load[i] < load[best] {
				best = i
			}
		}
		out[r] = best
		load[best] += size[r]
	}
	return out
}
