package inventory

import "maps"

// resolve merges the variables host hd sees from the inventory, in
// ansible-core's order (VARIABLE_PRECEDENCE, lowest first):
//
//	all (inline) < groups (inline) < group_vars/all < group_vars/GROUP
//	< host (inline) < host_vars/HOST
//
// where groups come in h.Groups order (depth, ansible_group_priority,
// name) and each level replaces whole keys. Ansible's connection variables
// are then taken out of the result into h.Conn and h.Address.
func (b *builder) resolve(hd *hostDecl) {
	h := hd.h
	merged := make(map[string]varEntry, 16)
	maps.Copy(merged, b.groups["all"].inline)
	for _, g := range h.Groups {
		if g != "all" {
			maps.Copy(merged, b.groups[g].inline)
		}
	}
	maps.Copy(merged, b.groups["all"].files)
	for _, g := range h.Groups {
		if g != "all" {
			maps.Copy(merged, b.groups[g].files)
		}
	}
	maps.Copy(merged, hd.inline)
	maps.Copy(merged, hd.files)

	h.resolved = make(map[string]any, len(merged))
	for k, e := range merged {
		if _, isConn := ansibleConnVars[k]; !isConn {
			h.resolved[k] = e.value
		}
	}
	h.Conn = Connection{Port: 22}
	for _, g := range h.Groups {
		b.groups[g].conn.applyTo(&h.Conn, b.dir)
	}
	hd.conn.applyTo(&h.Conn, b.dir)
	applyAnsibleConn(&h.Conn, merged, b.dir)
	if e, ok := firstOf(merged, "ansible_ssh_host", "ansible_host"); ok {
		h.Address = scalarString(e.value)
	}
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
