package inventory

import (
	"sort"
	"time"
)

// Inventory is a loaded, validated inventory.
type Inventory struct {
	// Path is the file the inventory was loaded from.
	Path string
	// Hosts in the order they were first declared.
	Hosts []*Host
	// Groups by name; "all" always exists and holds every host.
	Groups map[string]*Group
	// Order is the group run order (`order:`); groups not named there run
	// after, in declaration order.
	Order []string
	// Vars are the inventory-level vars (group "all").
	Vars map[string]any
	// Connection holds the inventory-wide connection defaults.
	Connection Connection
	// Secrets are values decrypted in memory only; their names are vars too,
	// and every value must be masked in any output.
	Secrets map[string]string
}

// Host is one target.
type Host struct {
	Name    string
	Address string
	// Groups the host belongs to directly or through children, outermost
	// first ("all" first), in precedence order.
	Groups []string
	// Vars are the host's own vars (host_vars, inline vars).
	Vars map[string]any
	// Conn is the effective connection: inventory defaults overridden by
	// group and host settings (ansible_* vars map onto it).
	Conn Connection
	// File and Line are where the host was first declared, for error
	// messages.
	File string
	Line int
	// resolved holds every inventory variable the host sees, merged in
	// Ansible's precedence order (see builder.resolve); nil for a Host not
	// built by Load.
	resolved map[string]any
}

// Group is a named set of hosts.
type Group struct {
	Name  string
	Hosts []string // direct members
	// Children are the groups nested in this one; for "all", every group no
	// other group claims.
	Children []string
	// Roles run, in order, on every host of the group (YAML format only,
	// or from a site file for INI inventories).
	Roles []string
	// Serial limits how many hosts of the group change at once; zero
	// means all.
	Serial Serial
	// MaxFailPercentage stops the rollout when more hosts of a batch fail.
	MaxFailPercentage int
	// Drain, when set, takes each host of a batch out of a load balancer
	// before it changes and puts it back once it is healthy again.
	Drain *Drain
	// Vars are the group's own vars (inline, then group_vars/ files).
	Vars map[string]any
	// File and Line are where the group was declared (line 0 for an implicit
	// "all").
	File string
	Line int
}

// Connection is how ferry reaches a host.
type Connection struct {
	User string
	// Port is the SSH port the inventory gives; 0 means ssh_config's
	// Port for the address, else 22.
	Port       int
	PrivateKey string // path; relative paths are relative to the inventory
	KnownHosts string // path; default ~/.ssh/known_hosts
	ProxyJump  string // "user@host:port[,user@host:port]"
	Become     bool
	// BecomePasswordVar names the secret holding the sudo password.
	BecomePasswordVar string
	// BecomeUser, when set, is the user become runs tasks as instead of
	// root (a task's or block's become_user wins).
	BecomeUser string
	Timeout    time.Duration
}

// Host returns the host called name, or nil.
func (inv *Inventory) Host(name string) *Host {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// HostsOf returns the hosts of group, its children's included, in inventory
// order; nil for an unknown group.
func (inv *Inventory) HostsOf(group string) []*Host {
	g := inv.Groups[group]
	if g == nil {
		return nil
	}
	if group == "all" {
		return append([]*Host(nil), inv.Hosts...)
	}
	member := map[string]bool{}
	seen := map[string]bool{}
	var walk func(g *Group)
	walk = func(g *Group) {
		if g == nil || seen[g.Name] {
			return // seen also guards hand-built inventories with a cycle
		}
		seen[g.Name] = true
		for _, h := range g.Hosts {
			member[h] = true
		}
		for _, c := range g.Children {
			walk(inv.Groups[c])
		}
	}
	walk(g)
	var out []*Host
	for _, h := range inv.Hosts {
		if member[h.Name] {
			out = append(out, h)
		}
	}
	return out
}

// GroupOrder is the order groups deploy in: the groups of Order first, then
// the others in declaration order. "all" is left out unless it has roles of
// its own.
func (inv *Inventory) GroupOrder() []string {
	out := make([]string, 0, len(inv.Groups))
	seen := map[string]bool{}
	for _, name := range inv.Order {
		if inv.Groups[name] != nil && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	rest := make([]*Group, 0, len(inv.Groups))
	for name, g := range inv.Groups {
		if !seen[name] && (name != "all" || len(g.Roles) > 0) {
			rest = append(rest, g)
		}
	}
	// Groups are declared in the inventory file itself, so file position is
	// declaration order.
	sort.Slice(rest, func(i, j int) bool {
		a, b := rest[i], rest[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Name < b.Name
	})
	for _, g := range rest {
		out = append(out, g.Name)
	}
	return out
}

// Drain says how a rolling deploy takes a group's hosts out of HAProxy: on
// every host of Through, the server named like the host in Backend is set
// to drain through the runtime API socket, ferry waits until it holds no
// connection (at most Timeout), changes the host, checks HealthURL on it
// from the load balancers, and sets the server ready again. Hosts with
// nothing to change are not drained. With Command instead, the host drains
// itself (load balancers sharing a floating address): ferry runs
// `Command release` on it before its first change and `Command return`
// after its play, each bounded by Timeout.
type Drain struct {
	Command   string // run on the host itself; excludes Through and Backend
	Through   string // group of the load balancers
	Backend   string // HAProxy backend holding the group's servers
	Socket    string // runtime API socket (default /run/haproxy/admin.sock)
	HealthURL string // checked from each load balancer; "%s" is the host's address
	Timeout   time.Duration
	File      string
	Line      int
}
