// Package inventory loads the hosts, groups and variables ferry deploys to,
// from ferry's YAML format or from an Ansible INI inventory, and resolves
// variable precedence and host patterns.
package inventory

import "time"

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
	// Line is where the host was declared, for error messages.
	File string
	Line int
}

// Group is a named set of hosts.
type Group struct {
	Name     string
	Hosts    []string // direct members
	Children []string
	// Roles run, in order, on every host of the group (YAML format only,
	// or from a site file for INI inventories).
	Roles []string
	// Serial limits how many hosts of the group change at once: "" (all),
	// "1", "2", "30%".
	Serial string
	// MaxFailPercentage stops the rollout when more hosts of a batch fail.
	MaxFailPercentage int
	Vars              map[string]any
	File              string
	Line              int
}

// Connection is how ferry reaches a host.
type Connection struct {
	User       string
	Port       int
	PrivateKey string // path; relative paths are relative to the inventory
	KnownHosts string // path; default ~/.ssh/known_hosts
	ProxyJump  string // "user@host:port[,user@host:port]"
	Become     bool
	// BecomePasswordVar names the secret holding the sudo password.
	BecomePasswordVar string
	Timeout           time.Duration
}
