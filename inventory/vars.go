package inventory

import "github.com/ferry-deploy/ferry/internal/vartree"

// VarsFor merges the variables one host sees, lowest precedence first:
// roleDefaults < secrets < the inventory's variables < extra (from -e). The
// inventory's variables rank as in Ansible: group vars written in the
// inventory < group_vars/all < group_vars/GROUP < the host's own vars; among
// groups, parents before children, then ansible_group_priority, then name. A key from a higher level replaces the
// whole value below it (no deep merge), like Ansible's default. The result is
// a fresh copy the caller may change. Secret values are included in clear:
// templates need them; output must go through Redact.
func (inv *Inventory) VarsFor(h *Host, roleDefaults, extra map[string]any) map[string]any {
	out := map[string]any{}
	put := func(m map[string]any) {
		for k, v := range m {
			out[k] = vartree.Copy(v) // callers cannot change the inventory through a returned value
		}
	}
	put(roleDefaults)
	for k, v := range inv.Secrets {
		out[k] = v
	}
	if h.resolved != nil {
		put(h.resolved)
	} else {
		put(inv.Vars)
		for _, g := range h.Groups {
			if grp := inv.Groups[g]; grp != nil && g != "all" {
				put(grp.Vars)
			}
		}
		put(h.Vars)
	}
	put(extra)
	return out
}
