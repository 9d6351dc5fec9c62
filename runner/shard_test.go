package runner

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"1/1", Shard{1, 1}, true},
		{"3/4", Shard{3, 4}, true},
		{"4/4", Shard{4, 4}, true},
		{"0/4", Shard{}, false},
		{"5/4", Shard{}, false},
		{"1/0", Shard{}, false},
		{"-1/4", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
		{"1/4/2", Shard{}, false},
		{"", Shard{}, false},
		{" 1/4", Shard{}, false},
	} {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %t", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// randomPlays makes plays over a pool of hosts: some hosts in several
// plays, serial counts, percentages or none, some roles with a run_once
// task (in a block, or a handler), some plays free to split host by host.
func randomPlays(r *rand.Rand) []Play {
	pool := make([]*inventory.Host, 1+r.IntN(60))
	for i := range pool {
		pool[i] = &inventory.Host{Name: fmt.Sprintf("h%03d", i)}
	}
	once := &roles.Role{Name: "once", Tasks: []*roles.Task{{Name: "plain"}, {Name: "b", Block: []*roles.Task{{Name: "x", RunOnce: true}}}}}
	onceHandler := &roles.Role{Name: "hdl", Handlers: []*roles.Task{{Name: "h", RunOnce: true}}}
	plain := &roles.Role{Name: "plain", Tasks: []*roles.Task{{Name: "t"}}}
	serials := []inventory.Serial{{}, {}, {Count: 1}, {Count: 2}, {Count: 3}, {Percent: 30}, {Percent: 50}, {Percent: 100}}
	var plays []Play
	for g := range 1 + r.IntN(5) {
		p := Play{Group: fmt.Sprintf("g%d", g), Serial: serials[r.IntN(len(serials))], Roles: []*roles.Role{plain}}
		switch r.IntN(4) {
		case 0:
			p.Roles = append(p.Roles, once)
		case 1:
			p.Roles = append(p.Roles, onceHandler)
		}
		for _, h := range pool {
			if r.IntN(3) == 0 {
				p.Hosts = append(p.Hosts, h)
			}
		}
		if len(p.Hosts) > 0 {
			plays = append(plays, p)
		}
	}
	return plays
}

func hostSet(plays []Play) map[string]bool {
	out := map[string]bool{}
	for _, p := range plays {
		for _, h := range p.Hosts {
			out[h.Name] = true
		}
	}
	return out
}

// batchNames lists a play's batches as host names.
func batchNames(t *testing.T, p Play) [][]string {
	t.Helper()
	bs, err := batches(p.Hosts, p.Serial)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, b := range bs {
		out = append(out, hostNames(b))
	}
	return out
}

// TestSliceShardProperties checks, over random plays and shard counts:
// every host is in exactly one shard; shards are balanced (by one host
// when every host may go alone, else by the largest unit); each kept
// batch lies in one shard and the shard runs exactly the whole run's
// batches; a play with run_once and no serial is in one shard; and the
// slices are the same when computed again.
func TestSliceShardProperties(t *testing.T) {
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 18))
		plays := randomPlays(r)
		all := hostSet(plays)
		n := 1 + r.IntN(8)
		owner := map[string]int{}
		sizes := make([]int, n)
		slicesOf := make([][]Play, n)
		for i := 1; i <= n; i++ {
			got, err := SliceShard(plays, Shard{i, n})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			again, _ := SliceShard(plays, Shard{i, n})
			if !reflect.DeepEqual(got, again) {
				t.Fatalf("seed %d shard %d/%d: not deterministic", seed, i, n)
			}
			slicesOf[i-1] = got
			for h := range hostSet(got) {
				if o, dup := owner[h]; dup {
					t.Fatalf("seed %d: host %s in shards %d and %d of %d", seed, h, o, i, n)
				}
				owner[h] = i
				sizes[i-1]++
			}
		}
		if len(owner) != len(all) {
			t.Fatalf("seed %d: shards hold %d hosts, plays %d", seed, len(owner), len(all))
		}

		// The units: kept batches tie hosts together (across plays too).
		largest, free := 1, true
		for _, p := range plays {
			if !keepsBatches(p) {
				continue
			}
			for _, b := range batchNames(t, p) {
				largest = max(largest, len(b))
				free = free && len(b) == 1
				for _, h := range b {
					if owner[h] != owner[b[0]] {
						t.Fatalf("seed %d: play %s (serial %q) batch %v split over shards", seed, p.Group, p.Serial, b)
					}
				}
			}
		}
		spread := slices.Max(sizes) - slices.Min(sizes)
		if free && spread > 1 {
			t.Errorf("seed %d: every host may go alone, but shard sizes %v", seed, sizes)
		}
		if spread > largest && !free {
			// Units tied across plays may be larger than one batch:
			// bound by the largest component instead.
			if spread > largestUnit(plays) {
				t.Errorf("seed %d: shard sizes %v differ by more than the largest unit", seed, sizes)
			}
		}

		// Each shard runs exactly the whole run's batches that fall in it.
		for _, p := range plays {
			if !keepsBatches(p) {
				continue
			}
			want := map[int][][]string{}
			for _, b := range batchNames(t, p) {
				want[owner[b[0]]] = append(want[owner[b[0]]], b)
			}
			for i, got := range slicesOf {
				var have [][]string
				for _, sp := range got {
					if sp.Group == p.Group {
						have = batchNames(t, sp)
					}
				}
				if !reflect.DeepEqual(have, want[i+1]) {
					t.Fatalf("seed %d: play %s (serial %q) shard %d/%d runs batches %v, want %v", seed, p.Group, p.Serial, i+1, n, have, want[i+1])
				}
			}
		}
	}
}

// largestUnit is the size of the largest group of hosts tied together.
func largestUnit(plays []Play) int {
	u := newUnionFind()
	for _, p := range plays {
		for _, h := range p.Hosts {
			u.add(h.Name)
		}
		if keepsBatches(p) {
			bs, _ := batches(p.Hosts, p.Serial)
			for _, b := range bs {
				for _, h := range b {
					u.union(b[0].Name, h.Name)
				}
			}
		}
	}
	size := map[string]int{}
	m := 0
	for _, name := range u.order {
		size[u.find(name)]++
		m = max(m, size[u.find(name)])
	}
	return m
}

func TestSliceShardExamples(t *testing.T) {
	hosts := func(names ...string) []*inventory.Host {
		var out []*inventory.Host
		for _, n := range names {
			out = append(out, &inventory.Host{Name: n})
		}
		return out
	}
	plain := []*roles.Role{{Name: "plain", Tasks: []*roles.Task{{Name: "t"}}}}
	once := []*roles.Role{{Name: "once", Tasks: []*roles.Task{{Name: "t", RunOnce: true}}}}
	plays := []Play{
		{Group: "db", Hosts: hosts("db1", "db2"), Roles: once},                                                          // run_once: together
		{Group: "web", Hosts: hosts("w1", "w2", "w3", "w4", "w5"), Roles: plain, Serial: inventory.Serial{Percent: 40}}, // batches of 2
		{Group: "app", Hosts: hosts("a1", "a2", "a3"), Roles: plain},                                                    // free
	}
	var got []string
	for i := 1; i <= 3; i++ {
		s, err := SliceShard(plays, Shard{i, 3})
		if err != nil {
			t.Fatal(err)
		}
		var line string
		for _, p := range s {
			line += fmt.Sprintf("%s(%s)%v ", p.Group, p.Serial, hostNames(p.Hosts))
		}
		got = append(got, line)
	}
	// Units by size, the largest first, each to the emptiest shard (the
	// first on a tie): db (2), w1+w2 (2), w3+w4 (2), then w5, a1, a2, a3.
	want := []string{
		"db()[db1 db2] web(2)[w5] app()[a3] ",
		"web(2)[w1 w2] app()[a1] ",
		"web(2)[w3 w4] app()[a2] ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("slices:\n%q\nwant\n%q", got, want)
	}
	if _, err := SliceShard(plays, Shard{4, 3}); err == nil {
		t.Error("shard 4/3 accepted")
	}
}

func TestRecapMerge(t *testing.T) {
	a := Recap{Event: "recap", Hosts: map[string]*HostStats{"h1": {OK: 3, Changed: 1, RoundTrips: 4, Tasks: 4}}, Changed: 1, DurationMS: 900}
	b := Recap{Event: "recap", Hosts: map[string]*HostStats{"h2": {Failed: 1}, "h3": {Unreachable: true}}, Failed: 1, Unreachable: 1, DurationMS: 1200, Interrupted: true}
	var m Recap
	for _, r := range []Recap{a, b} {
		if err := m.Merge(r); err != nil {
			t.Fatal(err)
		}
	}
	want := Recap{Event: "recap", Hosts: map[string]*HostStats{"h1": a.Hosts["h1"], "h2": b.Hosts["h2"], "h3": b.Hosts["h3"]},
		Changed: 1, Failed: 1, Unreachable: 1, DurationMS: 1200, Interrupted: true}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("merged %+v, want %+v", m, want)
	}
	m.Hosts["h1"].OK = 99
	if a.Hosts["h1"].OK != 3 {
		t.Error("the merge shares host stats with its input")
	}
	if err := m.Merge(a); err == nil {
		t.Error("a host in two recaps merged")
	}
	check := Recap{Event: "recap", Hosts: map[string]*HostStats{"h9": {}}, Check: true}
	if err := m.Merge(check); err == nil {
		t.Error("a check recap merged into real ones")
	}
	if err := m.Merge(Recap{Event: "task"}); err == nil {
		t.Error("a non-recap merged")
	}
	// An empty shard's recap merges and changes nothing.
	before := fmt.Sprint(m)
	if err := m.Merge(Recap{Event: "recap", Hosts: map[string]*HostStats{}}); err != nil || fmt.Sprint(m) != before {
		t.Errorf("empty recap: %v, %v", err, m)
	}
}
