package runner

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/roles"
)

// Play is one group's turn in a deploy: its roles run on its hosts, in
// batches of Serial hosts at a time.
type Play struct {
	Group string
	Hosts []*inventory.Host
	Roles []*roles.Role
	// Serial is how many hosts change at once; zero means all.
	Serial inventory.Serial
	// MaxFailPercentage stops the rollout when a batch fails more hosts.
	MaxFailPercentage int
	// Drain, when set, takes each changing host out of the load balancers
	// while it changes.
	Drain *inventory.Drain
	// DependencyOnly names the roles that are in Roles only as another
	// role's dependency: they run once per host per run.
	DependencyOnly map[string]bool
	// Included are the roles that include_role or import_role name and
	// that the play does not run itself: their defaults and handlers are
	// the play's too.
	Included []*roles.Role
}

// addRole appends r after its dependencies, each role once per play.
// A dependency whose role allows duplicates (allow_duplicates: true) is
// added each time a role depends on it. The dependencies of the roles r
// includes (include_role, import_role) run before r.
func (p *Play) addRole(r *roles.Role, asDependency bool) {
	for _, d := range r.Dependencies {
		p.addRole(d, true)
	}
	for _, x := range includedRoles(r) {
		for _, d := range x.Dependencies {
			p.addRole(d, true)
		}
	}
	for _, have := range p.Roles {
		if have.Name == r.Name && !(asDependency && r.AllowDuplicates) {
			if !asDependency {
				delete(p.DependencyOnly, r.Name)
			}
			return
		}
	}
	p.Roles = append(p.Roles, r)
	if asDependency {
		if p.DependencyOnly == nil {
			p.DependencyOnly = map[string]bool{}
		}
		p.DependencyOnly[r.Name] = true
	}
}

// RoleLoader finds roles by name.
type RoleLoader interface {
	Load(name string) (*roles.Role, error)
}

// BuildPlays turns an inventory into the ordered plays of a deploy: groups
// in run order, each with its roles and the hosts selected by limit (all
// hosts when limit is empty). Groups without roles, or with no selected
// host, make no play. Every role is loaded here, so a role that does not
// exist stops the deploy before anything runs.
func BuildPlays(inv *inventory.Inventory, loader RoleLoader, limit string) ([]Play, error) {
	selected := map[string]bool{}
	if limit != "" {
		hosts, err := inv.Select(limit)
		if err != nil {
			return nil, fmt.Errorf("--limit %q: %w", limit, err)
		}
		for _, h := range hosts {
			selected[h.Name] = true
		}
	}
	var plays []Play
	for _, name := range inv.GroupOrder() {
		g := inv.Groups[name]
		if g == nil || len(g.Roles) == 0 {
			continue
		}
		p := Play{Group: name, Serial: g.Serial, MaxFailPercentage: g.MaxFailPercentage, Drain: g.Drain}
		for _, h := range inv.HostsOf(name) {
			if limit == "" || selected[h.Name] {
				p.Hosts = append(p.Hosts, h)
			}
		}
		for _, rn := range g.Roles {
			r, err := loader.Load(rn)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: group %q: %w", g.File, g.Line, name, err)
			}
			p.addRole(r, false)
		}
		p.addIncluded()
		// Checked for every group, selected or not: bad input is bad
		// whatever --limit says.
		if err := roles.CheckNotify(p.handlerRoles()); err != nil {
			return nil, fmt.Errorf("%w (group %q runs %s)", err, name, roleNames(p))
		}
		if len(p.Hosts) > 0 {
			plays = append(plays, p)
		}
	}
	return plays, nil
}

// includedRoles lists the roles r's tasks include or import, in order.
func includedRoles(r *roles.Role) []*roles.Role {
	var out []*roles.Role
	var walk func(ts []*roles.Task)
	walk = func(ts []*roles.Task) {
		for _, t := range ts {
			if t.IncludeRole != nil && !slices.Contains(out, t.IncludeRole) {
				out = append(out, t.IncludeRole)
			}
			walk(t.Block)
			walk(t.Rescue)
			walk(t.Always)
			walk(t.Include)
		}
	}
	walk(r.Tasks)
	return out
}

// addIncluded records the roles the play's roles include that it does not
// run itself.
func (p *Play) addIncluded() {
	for _, r := range p.Roles {
		for _, x := range includedRoles(r) {
			if !slices.ContainsFunc(p.Roles, func(have *roles.Role) bool { return have.Name == x.Name }) && !slices.Contains(p.Included, x) {
				p.Included = append(p.Included, x)
			}
		}
	}
}

// handlerRoles lists, once each, the roles whose handlers the play runs, in
// the order their handlers run: the play's roles, then the roles they
// include.
func (p Play) handlerRoles() []*roles.Role {
	var out []*roles.Role
	for _, r := range append(slices.Clone(p.Roles), p.Included...) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// defaults merges the defaults of the play's roles and of the roles they
// include (the play's own roles win).
func (p Play) defaults() map[string]any {
	return roleDefaults(append(slices.Clone(p.Included), p.Roles...))
}

// roleDefaults merges the defaults of a play's roles; a later role's default
// wins over an earlier one's, and every inventory variable wins over both.
func roleDefaults(rs []*roles.Role) map[string]any {
	out := map[string]any{}
	for _, r := range rs {
		maps.Copy(out, r.Defaults)
	}
	return out
}

// batches splits hosts according to serial: zero is one batch, a count N
// batches of N, a percentage P batches of ceil(P% of the hosts), at least one.
func batches(hosts []*inventory.Host, serial inventory.Serial) ([][]*inventory.Host, error) {
	if serial.Count < 0 || serial.Percent < 0 || serial.Percent > 100 {
		return nil, fmt.Errorf("serial %+v: want a count or a percentage 1-100", serial)
	}
	size := serial.BatchSize(len(hosts))
	var out [][]*inventory.Host
	for len(hosts) > 0 {
		n := min(size, len(hosts))
		out = append(out, hosts[:n])
		hosts = hosts[n:]
	}
	return out, nil
}
