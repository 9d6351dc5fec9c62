package inventory

import "maps"

// groupSet is what every host of one set of groups shares: the groups in
// precedence order, their variables merged, and the connection they give.
type groupSet struct {
	groups []string
	merged map[string]varEntry
	// vars and conn are the result for a host with no variables of its
	// own; vars is shared by such hosts and never changed.
	vars map[string]any
	conn Connection
}

// newGroupSet merges the group levels of ansible-core's order
// (VARIABLE_PRECEDENCE, lowest first):
//
//	all (inline) < groups (inline) < group_vars/all < group_vars/GROUP
//
// groups coming in precedence order (depth, ansible_group_priority, name)
// and each level replacing whole keys.
func (b *builder) newGroupSet(groups []string) *groupSet {
	gs := &groupSet{groups: groups, merged: make(map[string]varEntry, 16)}
	maps.Copy(gs.merged, b.groups["all"].inline)
	for _, g := range groups {
		if g != "all" {
			maps.Copy(gs.merged, b.groups[g].inline)
		}
	}
	maps.Copy(gs.merged, b.groups["all"].files)
	for _, g := range groups {
		if g != "all" {
			maps.Copy(gs.merged, b.groups[g].files)
		}
	}
	gs.vars, gs.conn = b.split(gs.merged, groups, nil)
	return gs
}

// resolve gives host hd its variables: the group levels of gs, then the
// host's own (inline < host_vars/HOST). Ansible's connection variables are
// taken out of the result into h.Conn and h.Address.
func (b *builder) resolve(hd *hostDecl, gs *groupSet) {
	h := hd.h
	merged := gs.merged
	if len(hd.inline) > 0 || len(hd.files) > 0 {
		merged = make(map[string]varEntry, len(gs.merged)+len(hd.inline)+len(hd.files))
		maps.Copy(merged, gs.merged)
		maps.Copy(merged, hd.inline)
		maps.Copy(merged, hd.files)
		h.resolved, h.Conn = b.split(merged, gs.groups, hd)
	} else {
		h.resolved, h.Conn = gs.vars, gs.conn
		if hd.conn != (connPatch{}) {
			hd.conn.applyTo(&h.Conn, b.dir)
			applyAnsibleConn(&h.Conn, merged, b.dir)
		}
	}
	if e, ok := firstOf(merged, "ansible_ssh_host", "ansible_host"); ok {
		h.Address = scalarString(e.value)
	}
}

// split separates merged into plain variables and the connection: ferry's
// connection: settings of the groups and host, then Ansible's connection
// variables over them.
func (b *builder) split(merged map[string]varEntry, groups []string, hd *hostDecl) (map[string]any, Connection) {
	vars := make(map[string]any, len(merged))
	for k, e := range merged {
		if _, isConn := ansibleConnVars[k]; !isConn {
			vars[k] = e.value
		}
	}
	// Port stays 0 unless the inventory gives one, so that an ssh_config
	// Port for the address applies (then 22), as with ssh.
	c := Connection{}
	for _, g := range groups {
		b.groups[g].conn.applyTo(&c, b.dir)
	}
	if hd != nil {
		hd.conn.applyTo(&c, b.dir)
	}
	applyAnsibleConn(&c, merged, b.dir)
	return vars, c
}

// connPrecedence lists, for each connection setting, the Ansible variables
// that set it, the winner first: when both are set, the ssh_ variant wins
// whatever level each comes from, as in ansible-core (its ssh plugin reads
// the names in this order; for become, sudo's become_pass comes last).
var connPrecedence = []struct {
	setting string
	names   []string
}{
	{"port", []string{"ansible_ssh_port", "ansible_port"}},
	{"user", []string{"ansible_ssh_user", "ansible_user"}},
	{"private_key", []string{"ansible_ssh_private_key_file", "ansible_private_key_file"}},
	{"become", []string{"ansible_become"}},
	{"become_user", []string{"ansible_become_user"}},
	{"become_password_ref", []string{"ansible_become_pass", "ansible_become_password"}},
	{"ssh_args", []string{"ansible_ssh_common_args"}},
}

// applyAnsibleConn writes the connection variables of merged onto c; they
// rank above ferry's connection: settings. Values were checked when they
// were set.
func applyAnsibleConn(c *Connection, merged map[string]varEntry, dir string) {
	var p connPatch
	for _, cp := range connPrecedence {
		if e, ok := firstOf(merged, cp.names...); ok {
			_ = setConn(&p, cp.setting, e.value, e.at)
		}
	}
	p.applyTo(c, dir)
}

// firstOf is the first of names set to something other than null: Ansible
// skips null values when it reads connection options.
func firstOf(m map[string]varEntry, names ...string) (varEntry, bool) {
	for _, n := range names {
		if e, ok := m[n]; ok && e.value != nil {
			return e, true
		}
	}
	return varEntry{}, false
}
