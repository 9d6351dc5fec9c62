// Package invview is the template helpers' view of an inventory (what
// templates.Inventory asks for), so that package templates need not know
// package inventory.
package invview

import (
	"sync"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/templates"
)

// View adapts an inventory to what template helpers read. Each host's
// merged vars are computed once: templates call hosts "web" for every host
// they render, and merging is a deep copy.
type View struct {
	inv   *inventory.Inventory
	extra map[string]any
	mu    sync.Mutex
	vars  map[string]map[string]any
}

// New is the view of inv with the -e variables extra merged over each host's.
func New(inv *inventory.Inventory, extra map[string]any) *View {
	return &View{inv: inv, extra: extra}
}

func (v *View) hostVars(h *inventory.Host) map[string]any {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.vars == nil {
		v.vars = map[string]map[string]any{}
	}
	vars, ok := v.vars[h.Name]
	if !ok {
		vars = v.inv.VarsFor(h, nil, v.extra)
		v.vars[h.Name] = vars
	}
	return vars
}

// HostsOf returns the hosts of group in inventory order, each with its
// merged variables, and false when there is no such group.
func (v *View) HostsOf(group string) ([]templates.HostView, bool) {
	if _, ok := v.inv.Groups[group]; !ok {
		return nil, false
	}
	hs := v.inv.HostsOf(group)
	out := make([]templates.HostView, len(hs))
	for i, h := range hs {
		out[i] = templates.HostView{Name: h.Name, Address: h.Address, Vars: v.hostVars(h)}
	}
	return out, true
}

// HostVars returns the merged variables of host, and false when there is
// no such host.
func (v *View) HostVars(host string) (map[string]any, bool) {
	h := v.inv.Host(host)
	if h == nil {
		return nil, false
	}
	return v.hostVars(h), true
}
