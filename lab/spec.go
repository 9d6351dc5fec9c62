// Package lab builds and removes the ferry lab: real Debian hosts booted with
// systemd-nspawn in their own network namespaces on one Linux machine, joined
// by a bridge, reaching Debian's mirror only through a caching proxy on the
// bridge. It also drives the Vagrant variant of the same lab.
//
// The package takes a plain Spec and knows nothing of inventories, so that
// the CLI decides where a lab's hosts come from.
package lab

import (
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"regexp"
)

// Fixed facts of the lab network. 198.18.0.0/15 is reserved for benchmark
// networks (RFC 2544), so lab addresses can never collide with a real network
// or leak to one.
const (
	// BridgeName is the controller-side bridge every host's veth joins.
	BridgeName = "br-ferry"
	// ProxyPort is where the caching apt proxy listens on the bridge address.
	ProxyPort = 3142
	// Suite is the Debian release of the lab hosts.
	Suite = "bookworm"
	// DefaultBaseDir caches the debootstrapped root filesystem across labs.
	DefaultBaseDir = "/var/lib/ferry/lab/base-" + Suite
	// DefaultCacheDir holds the apt proxy's cache, kept across labs so that a
	// second lab downloads nothing again.
	DefaultCacheDir = "/var/cache/ferry/lab"
)

var (
	// Network is the only range lab hosts may use.
	Network = netip.MustParsePrefix("198.18.0.0/24")
	// BridgeAddress is the controller's address on the lab bridge.
	BridgeAddress = netip.MustParseAddr("198.18.0.1")
)

// HostSpec is one lab host.
type HostSpec struct {
	// Name is the host name, also its network namespace and machine name.
	Name string
	// Address is the host's IPv4 address inside Network.
	Address string
}

// Spec describes a lab to build.
type Spec struct {
	// Hosts to boot, in the order status reports them.
	Hosts []HostSpec
	// StateDir holds everything one lab owns (keys, upper dirs, proxy
	// config, pid files); down removes what it made there.
	StateDir string
	// KeyFile is the lab's private key; default StateDir/id_ed25519.
	KeyFile string
	// KnownHostsFile is written with every host's key; default
	// StateDir/known_hosts.
	KnownHostsFile string
	// BaseDir is the cached base root filesystem; default DefaultBaseDir.
	BaseDir string
	// CacheDir holds the apt proxy cache; default DefaultCacheDir.
	CacheDir string
	// AptSources are the controller's apt source files the mirror is read
	// from; default the system's (see DefaultAptSources).
	AptSources []string
	// Log receives one line per step; nil discards.
	Log io.Writer
	// Network is the range the hosts' addresses must be in, its first
	// address being the controller's; zero means Network (the nspawn lab),
	// VMNetwork for the Vagrant lab.
	Network netip.Prefix
}

// network is the range this lab's hosts live in.
func (s Spec) network() netip.Prefix {
	if s.Network.IsValid() {
		return s.Network.Masked()
	}
	return Network
}

// hostNameRE keeps names usable as netns, machine and file names.
var hostNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// withDefaults returns a copy of s with empty fields filled and paths made
// absolute, because pid files and process command lines compare paths.
func (s Spec) withDefaults() (Spec, error) {
	if s.StateDir == "" {
		return s, fmt.Errorf("lab spec: state dir is empty")
	}
	abs := func(p *string, def string) error {
		if *p == "" {
			*p = def
		}
		a, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("lab spec: path %s: %w", *p, err)
		}
		*p = a
		return nil
	}
	if err := abs(&s.StateDir, ""); err != nil {
		return s, err
	}
	for _, f := range []struct {
		p   *string
		def string
	}{
		{&s.KeyFile, filepath.Join(s.StateDir, "id_ed25519")},
		{&s.KnownHostsFile, filepath.Join(s.StateDir, "known_hosts")},
		{&s.BaseDir, DefaultBaseDir},
		{&s.CacheDir, DefaultCacheDir},
	} {
		if err := abs(f.p, f.def); err != nil {
			return s, err
		}
	}
	if len(s.AptSources) == 0 {
		s.AptSources = DefaultAptSources()
	}
	if s.Log == nil {
		s.Log = io.Discard
	}
	return s, nil
}

// Validate checks names and addresses: unique, well-formed, inside Network
// and not the bridge's own address.
func (s Spec) Validate() error {
	if len(s.Hosts) == 0 {
		return fmt.Errorf("lab spec: no hosts")
	}
	network := s.network()
	gateway := network.Addr().Next()
	broadcast := lastAddr(network)
	names := map[string]bool{}
	addrs := map[netip.Addr]string{}
	for _, h := range s.Hosts {
		if !hostNameRE.MatchString(h.Name) {
			return fmt.Errorf("lab host %q: name must be lowercase letters, digits and dashes, at most 32", h.Name)
		}
		if names[h.Name] {
			return fmt.Errorf("lab host %s: declared twice", h.Name)
		}
		names[h.Name] = true
		a, err := netip.ParseAddr(h.Address)
		if err != nil {
			return fmt.Errorf("lab host %s: address %q: %w", h.Name, h.Address, err)
		}
		if !network.Contains(a) || a == gateway || a == network.Addr() || a == broadcast {
			return fmt.Errorf("lab host %s: address %s must be a host address in %s other than the controller's %s", h.Name, a, network, gateway)
		}
		if other, dup := addrs[a]; dup {
			return fmt.Errorf("lab host %s: address %s already used by %s", h.Name, a, other)
		}
		addrs[a] = h.Name
	}
	return nil
}

// hostDir is where one host's state lives.
func (s Spec) hostDir(name string) string { return filepath.Join(s.StateDir, "hosts", name) }

// vethName is the controller-side end of a host's veth pair. Interface names
// are limited to 15 bytes, and "vf-" plus a 32-byte host name is not.
func vethName(host string) string {
	n := "vf-" + host
	if len(n) <= 15 {
		return n
	}
	var h uint32 = 2166136261 // FNV-1a: stable, short, no import needed
	for i := 0; i < len(host); i++ {
		h ^= uint32(host[i])
		h *= 16777619
	}
	return fmt.Sprintf("vf-%s%08x", host[:4], h)
}

// lastAddr is a prefix's broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	for i := 3; i >= 0 && host > 0; i-- {
		n := min(host, 8)
		a[i] |= byte(1<<n - 1)
		host -= n
	}
	return netip.AddrFrom4(a)
}
