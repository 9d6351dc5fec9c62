package inventory

import (
	"fmt"
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
}

// hostDecl is a host while loading.
type hostDecl struct {
	h    *Host
	conn connPatch
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

func (b *builder) checkName(kind, name, file string, line int) bool {
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
	gd := &groupDecl{g: &Group{Name: name, Vars: map[string]any{}, File: file, Line: line}}
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
	if !contains(gd.g.Hosts, name) {
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

// setVars stores variables into vars, taking Ansible's connection variables
// out into conn (and the address into hd when the vars are a host's).
func (b *builder) setVars(vars map[string]any, conn *connPatch, hd *hostDecl, entries []varEntry) {
	for _, e := range entries {
		if !validVarName(e.key) {
			b.add(e.at.file, e.at.line, "invalid variable name %q: use letters, digits and '_', not starting with a digit", e.key)
			continue
		}
		setting, isConn := ansibleConnVars[e.key]
		switch {
		case !isConn:
			vars[e.key] = e.value
		case setting == "address" && hd == nil:
			b.add(e.at.file, e.at.line, "%s is only valid for a host", e.key)
		case setting == "address":
			b.setAddress(hd, scalarString(e.value), e.at)
		default:
			if err := setConn(conn, setting, e.value, e.at); err != nil {
				b.add(e.at.file, e.at.line, "%s: %v", e.key, err)
			}
		}
	}
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
	for _, hd := range b.hostsInOrder() {
		h := hd.h
		if h.Address == "" {
			if b.addressFromName {
				h.Address = h.Name
			} else {
				b.add(h.File, h.Line, "host %q has no address", h.Name)
			}
		}
		h.Groups = groupsOf(direct[h.Name], parents, depth)
		// Port stays 0 unless the inventory gives one, so that an
		// ssh_config Port for the address applies (then 22), as with ssh.
		h.Conn = Connection{}
		for _, g := range h.Groups {
			b.groups[g].conn.applyTo(&h.Conn, b.dir)
		}
		hd.conn.applyTo(&h.Conn, b.dir)
	}
	b.inv.Connection = Connection{}
	b.groups["all"].conn.applyTo(&b.inv.Connection, b.dir)
	for _, r := range b.order {
		b.inv.Order = append(b.inv.Order, r.name)
	}
	if len(b.inv.Hosts) == 0 {
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
// in precedence order: by depth, then by name (Ansible's rule for siblings).
func groupsOf(direct []string, parents map[string][]string, depth map[string]int) []string {
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
