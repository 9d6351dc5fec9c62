package inventory

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ref is a name as written somewhere: a child group, an order entry, a
// group membership.
type ref struct {
	name string
	file string
	line int
}

// varEntry is one variable as written, with its place.
type varEntry struct {
	key   string
	value any
	at    ref
}

// groupDecl is a group while loading: the Group plus what only loading needs.
type groupDecl struct {
	g        *Group
	conn     connPatch
	children []ref
	// inline holds the variables written in the inventory itself, files
	// those of group_vars/: two precedence tiers.
	inline, files map[string]varEntry
	// priority is ansible_group_priority (default 1): among groups of the
	// same depth, the higher one wins.
	priority int
	// members is g.Hosts as a set, so that adding hosts stays linear.
	members map[string]bool
}

// hostDecl is a host while loading.
type hostDecl struct {
	h             *Host
	conn          connPatch
	inline, files map[string]varEntry
	// addrAt is where the address was given; line 0 while none was.
	addrAt ref
}

// builder assembles an Inventory from either format and the files beside it,
// then checks the whole (finish). Both parsers write through it, so both
// formats obey the same rules.
type builder struct {
	problems
	file     string
	dir      string
	inv      *Inventory
	groups   map[string]*groupDecl
	groupSeq []string // declaration order
	hosts    map[string]*hostDecl
	order    []ref
	secrets  ref
	// addressFromName is Ansible's rule: a host without ansible_host is
	// reached by its inventory name. ferry's YAML wants an explicit address.
	addressFromName bool
	// ungroupedSection is set when an INI file has its own [ungrouped].
	ungroupedSection bool
	// ansible is set for Ansible's formats (INI, YAML, JSON, scripts):
	// names as Ansible takes them, an inventory may be empty, and vars
	// files for groups it does not have are ignored, as Ansible does.
	ansible bool
	// becomeRefs are become passwords set through Ansible variables, for
	// checkBecome.
	becomeRefs []connPatch
}

func newBuilder(path string) *builder {
	b := &builder{
		file:   path,
		dir:    filepath.Dir(path),
		inv:    &Inventory{Path: path, Groups: map[string]*Group{}, Secrets: map[string]string{}},
		groups: map[string]*groupDecl{},
		hosts:  map[string]*hostDecl{},
	}
	b.inv.Vars = b.group("all", path, 0).g.Vars
	return b
}

// nameRe is what group and host names may contain: no spaces and none of
// the characters host patterns give a meaning (",:!&*?[]").
var nameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*$`)

// checkName applies ferry's rule for names to its own format; Ansible's
// formats take any name without blanks, as Ansible does (IPv6 addresses,
// "web+db", non-ASCII).
func (b *builder) checkName(kind, name, file string, line int) bool {
	if b.ansible {
		if name == "" || strings.ContainsAny(name, " \t\n\r") {
			b.add(file, line, "invalid %s name %q", kind, name)
			return false
		}
		// Refused on purpose where Ansible accepts it: a name that --limit
		// could never select, since patterns split it.
		if elems, ok := splitPattern(name); !ok || len(elems) != 1 || elems[0] != name || name[0] == '!' || name[0] == '&' {
			b.add(file, line, "invalid %s name %q: host patterns could not select it (',' or ':' outside an address, or a leading '!' or '&')", kind, name)
			return false
		}
		return true
	}
	if !nameRe.MatchString(name) {
		b.add(file, line, "invalid %s name %q: use letters, digits, '_', '-' and '.'", kind, name)
		return false
	}
	return true
}

// group returns the group called name, declaring it at file:line the first
// time.
func (b *builder) group(name, file string, line int) *groupDecl {
	if gd, ok := b.groups[name]; ok {
		return gd
	}
	gd := &groupDecl{g: &Group{Name: name, Vars: map[string]any{}, File: file, Line: line},
		inline: map[string]varEntry{}, files: map[string]varEntry{}, priority: 1}
	b.groups[name] = gd
	b.groupSeq = append(b.groupSeq, name)
	b.inv.Groups[name] = gd.g
	return gd
}

// addHost makes name a direct member of gd, declaring the host the first
// time it is seen.
func (b *builder) addHost(gd *groupDecl, name string, at ref) *hostDecl {
	hd, ok := b.hosts[name]
	if !ok {
		hd = &hostDecl{h: &Host{Name: name, Vars: map[string]any{}, File: at.file, Line: at.line}}
		b.hosts[name] = hd
		b.inv.Hosts = append(b.inv.Hosts, hd.h)
	}
	if gd.members == nil {
		gd.members = map[string]bool{}
	}
	if !gd.members[name] {
		gd.members[name] = true
		gd.g.Hosts = append(gd.g.Hosts, name)
	}
	return hd
}

// setAddress records a host's address; a second, different one is an error
// naming both places.
func (b *builder) setAddress(hd *hostDecl, addr string, at ref) {
	addr = strings.TrimSpace(addr)
	if addr == "" || strings.ContainsAny(addr, " \t/") {
		b.add(at.file, at.line, "host %q: invalid address %q", hd.h.Name, addr)
		return
	}
	if hd.addrAt.line != 0 && hd.h.Address != addr {
		b.add(at.file, at.line, "host %q: address %s conflicts with %s given at %s:%d",
			hd.h.Name, addr, hd.h.Address, hd.addrAt.file, hd.addrAt.line)
		return
	}
	hd.h.Address = addr
	hd.addrAt = at
}

// finish checks references, cycles and addresses, then computes each host's
// groups and connection. It stops early when references are broken, since
// the rest would only repeat the same problem.
func (b *builder) finish() {
	b.checkRefs()
	if len(b.list) > 0 {
		return
	}
	if b.checkCycles() {
		return
	}
	b.linkAll()
	parents := b.parents()
	depth := b.depths(parents)
	direct := map[string][]string{}
	for _, name := range b.groupSeq {
		for _, h := range b.groups[name].g.Hosts {
			direct[h] = append(direct[h], name)
		}
	}
	priority := map[string]int{}
	for name, gd := range b.groups {
		priority[name] = gd.priority
	}
	// Hosts in the same groups share their group order and group-level
	// variables: a 10,000-host inventory has only a few such sets.
	shared := map[string]*groupSet{}
	for _, hd := range b.hostsInOrder() {
		h := hd.h
		key := strings.Join(direct[h.Name], "\x00")
		gs := shared[key]
		if gs == nil {
			gs = b.newGroupSet(groupsOf(direct[h.Name], parents, depth, priority))
			shared[key] = gs
		}
		h.Groups = append([]string(nil), gs.groups...)
		b.resolve(hd, gs)
		if h.Address == "" {
			if b.addressFromName {
				h.Address = h.Name
			} else {
				b.add(h.File, h.Line, "host %q has no address", h.Name)
			}
		}
	}
	b.inv.Connection = Connection{}
	all := b.groups["all"]
	all.conn.applyTo(&b.inv.Connection, b.dir)
	allVars := map[string]varEntry{}
	maps.Copy(allVars, all.inline)
	maps.Copy(allVars, all.files)
	applyAnsibleConn(&b.inv.Connection, allVars, b.dir)
	for _, r := range b.order {
		b.inv.Order = append(b.inv.Order, r.name)
	}
	if len(b.inv.Hosts) == 0 && !b.ansible {
		b.add(b.file, 0, "the inventory has no hosts")
	}
}

func (b *builder) hostsInOrder() []*hostDecl {
	out := make([]*hostDecl, len(b.inv.Hosts))
	for i, h := range b.inv.Hosts {
		out[i] = b.hosts[h.Name]
	}
	return out
}

// checkRefs reports children and order entries naming no group, and names
// used for both a group and a host (patterns could not tell them apart).
func (b *builder) checkRefs() {
	missing := func(r ref, what string) {
		b.add(r.file, r.line, "%s: group %q is not defined%s", what, r.name, suggest(r.name, b.groupSeq))
	}
	for _, name := range b.groupSeq {
		for _, c := range b.groups[name].children {
			switch {
			case c.name == "all":
				b.add(c.file, c.line, "group %q: \"all\" cannot be a child group", name)
			case c.name == "ungrouped" && b.ansible && name != "all":
				// Ansible then drops the hosts of ungrouped without a word.
				b.add(c.file, c.line, "group %q: \"ungrouped\" cannot be a child group", name)
			case name == "ungrouped" && b.ansible:
				// Ansible applies ungrouped's vars to some of its children's
				// hosts and not to others, by the order of the file.
				b.add(c.file, c.line, "\"ungrouped\" cannot have child groups (%q)", c.name)
			case b.groups[c.name] == nil:
				missing(c, fmt.Sprintf("children of %q", name))
			}
		}
	}
	for _, r := range b.order {
		if b.groups[r.name] == nil {
			missing(r, "order")
		}
	}
	for _, name := range b.groupSeq {
		if d := b.groups[name].g.Drain; d != nil && d.Through != "" && b.groups[d.Through] == nil {
			missing(ref{name: d.Through, file: d.File, line: d.Line}, fmt.Sprintf("drain of %q", name))
		}
	}
	for _, h := range b.inv.Hosts {
		if gd := b.groups[h.Name]; gd != nil {
			b.add(h.File, h.Line, "host %q has the name of a group (declared at %s:%d)", h.Name, gd.g.File, gd.g.Line)
		}
	}
}

// checkCycles reports a children cycle at the line that closes it.
func (b *builder) checkCycles() bool {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	found := false
	var path []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = active
		path = append(path, name)
		for _, c := range b.groups[name].children {
			switch state[c.name] {
			case active:
				i := indexOf(path, c.name)
				cycle := append(append([]string{}, path[i:]...), c.name)
				b.add(c.file, c.line, "cycle in children: %s", strings.Join(cycle, " -> "))
				found = true
			case unseen:
				visit(c.name)
			}
		}
		path = path[:len(path)-1]
		state[name] = done
	}
	for _, name := range b.groupSeq {
		if state[name] == unseen {
			visit(name)
		}
	}
	return found
}

// linkAll makes every group nobody else claims a child of "all", as Ansible
// does, so that the tree has one root.
func (b *builder) linkAll() {
	claimed := map[string]bool{"all": true}
	for _, name := range b.groupSeq {
		for _, c := range b.groups[name].children {
			claimed[c.name] = true
		}
	}
	all := b.groups["all"]
	for _, name := range b.groupSeq {
		if !claimed[name] {
			all.children = append(all.children, ref{name: name, file: b.file})
		}
	}
	for _, name := range b.groupSeq {
		gd := b.groups[name]
		gd.g.Children = nil
		for _, c := range gd.children {
			gd.g.Children = append(gd.g.Children, c.name)
		}
	}
}

// depths is each group's longest distance from "all": a child always ranks
// above every one of its parents, whatever path leads to it.
func (b *builder) depths(parents map[string][]string) map[string]int {
	depth := map[string]int{"all": 0}
	var of func(name string) int
	of = func(name string) int {
		if d, ok := depth[name]; ok {
			return d
		}
		d := 0
		for _, p := range parents[name] {
			d = max(d, of(p)+1)
		}
		depth[name] = d
		return d
	}
	for _, name := range b.groupSeq {
		of(name)
	}
	return depth
}

// groupsOf lists every group holding a host, directly or through children,
// in precedence order: by depth, then ansible_group_priority, then by name
// (Ansible's sort_groups).
func groupsOf(direct []string, parents map[string][]string, depth, priority map[string]int) []string {
	member := map[string]bool{"all": true}
	var up func(g string)
	up = func(g string) {
		if member[g] {
			return
		}
		member[g] = true
		for _, p := range parents[g] {
			up(p)
		}
	}
	for _, g := range direct {
		up(g)
	}
	out := make([]string, 0, len(member))
	for g := range member {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if depth[out[i]] != depth[out[j]] {
			return depth[out[i]] < depth[out[j]]
		}
		if priority[out[i]] != priority[out[j]] {
			return priority[out[i]] < priority[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// parents inverts the children links (after linkAll, so every group but
// "all" has at least one parent).
func (b *builder) parents() map[string][]string {
	p := map[string][]string{}
	for _, name := range b.groupSeq {
		for _, c := range b.groups[name].children {
			p[c.name] = append(p[c.name], name)
		}
	}
	return p
}

var varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validVarName keeps names usable as template fields (.name).
func validVarName(s string) bool { return varNameRe.MatchString(s) }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
