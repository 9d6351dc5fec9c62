package inventory

import (
	"cmp"
	"math"
	"sort"
	"strconv"

	"github.com/ferry-deploy/ferry/internal/vartree"
)

// AnsibleList is the inventory in the shape `ansible-inventory --list`
// prints: one entry per group with its direct "hosts" and its "children"
// (empty ones left out, as Ansible does), and "_meta": {"hostvars": ...}
// with every host's variables, merged by precedence, plus its connection
// as ansible_host, ansible_port and, when set, ansible_user,
// ansible_ssh_private_key_file and ansible_become.
//
// Secrets are not included; callers still pass the encoded result through
// Redact, which masks a secret value copied into another variable.
func (inv *Inventory) AnsibleList() map[string]any {
	out := map[string]any{}
	for name, g := range inv.Groups {
		entry := map[string]any{}
		if name != "all" && len(g.Hosts) > 0 {
			entry["hosts"] = append([]string{}, g.Hosts...)
		}
		if len(g.Children) > 0 {
			c := append([]string{}, g.Children...)
			sort.Strings(c)
			entry["children"] = c
		}
		if len(entry) > 0 {
			out[name] = entry
		}
	}
	hostvars := map[string]any{}
	for _, h := range inv.Hosts {
		hostvars[h.Name] = inv.hostVarsForList(h)
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	return out
}

func (inv *Inventory) hostVarsForList(h *Host) map[string]any {
	vars := inv.VarsFor(h, nil, nil)
	for name := range inv.Secrets {
		delete(vars, name)
	}
	vars["ansible_host"] = h.Address
	vars["ansible_port"] = cmp.Or(h.Conn.Port, 22) // 0: ssh_config's port, else 22
	if h.Conn.User != "" {
		vars["ansible_user"] = h.Conn.User
	}
	if h.Conn.PrivateKey != "" {
		vars["ansible_ssh_private_key_file"] = h.Conn.PrivateKey
	}
	if h.Conn.Become {
		vars["ansible_become"] = true
	}
	if h.Conn.BecomeUser != "" {
		vars["ansible_become_user"] = h.Conn.BecomeUser
	}
	for k, v := range vars {
		vars[k] = jsonFloats(v)
	}
	return vars
}

// jsonFloat is a float written as Python's json writes it, so that 5.0 stays
// a float for a reader that tells 5 from 5.0 (Go would write 5).
type jsonFloat float64

// MarshalJSON writes 5.0, 0.5 or 1e+16 like Python's repr.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsInf(x, 1):
		return []byte("Infinity"), nil
	case math.IsInf(x, -1):
		return []byte("-Infinity"), nil
	case math.IsNaN(x):
		return []byte("NaN"), nil
	case x == math.Trunc(x) && math.Abs(x) < 1e16:
		return strconv.AppendFloat(nil, x, 'f', 1, 64), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

// jsonFloats copies v with every float64 made a jsonFloat.
func jsonFloats(v any) any {
	return vartree.Map(v, func(leaf any) any {
		if x, ok := leaf.(float64); ok {
			return jsonFloat(x)
		}
		return leaf
	})
}
