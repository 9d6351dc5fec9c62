package hostread

import "strings"

// Identity is what a host says it is: its kernel and its own name.
type Identity struct {
	Kernel   string // uname -sr: "Linux 6.1.0-18-amd64"
	Hostname string
}

// HostIdentity reads the kernel and host name (ferry ping), with nothing
// but uname and hostname, which every host has.
var HostIdentity = Reader[Identity]{
	Name:   "uname",
	Script: "uname -sr; hostname",
	Parse:  infallible(ParseIdentity),
}

// ParseIdentity reads HostIdentity's two lines.
func ParseIdentity(out string) Identity {
	lines := strings.SplitN(strings.TrimSpace(out), "\n", 2)
	id := Identity{Kernel: lines[0]}
	if len(lines) == 2 {
		id.Hostname = strings.TrimSpace(lines[1])
	}
	return id
}
