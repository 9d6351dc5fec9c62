package sshtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fleet is a set of in-process SSH hosts that trust one client key, with a
// folder holding that key's file and a known_hosts file trusting every
// host: what a test needs to write a ferry inventory that reaches them.
type Fleet struct {
	t testing.TB
	// Dir is the folder of known_hosts, where the test puts its inventory.
	Dir string
	// Key is the client key every host accepts; KeyFile its private key.
	Key     *Key
	KeyFile string
	// Names lists the hosts in the order they were started.
	Names   []string
	Servers map[string]*Server
}

// NewFleet starts one server per name, each with opts.
func NewFleet(t testing.TB, names []string, opts ...Option) *Fleet {
	t.Helper()
	key := NewKey(t)
	f := &Fleet{t: t, Dir: t.TempDir(), Key: key, KeyFile: key.WriteFile(t, ""), Servers: map[string]*Server{}}
	for _, n := range names {
		f.Start(n, opts...)
	}
	return f
}

// Start starts one more host called name, trusting the fleet's key, and
// adds it to known_hosts.
func (f *Fleet) Start(name string, opts ...Option) *Server {
	f.t.Helper()
	srv := New(f.t, append([]Option{WithAuthorizedKeys(f.Key.Public)}, opts...)...)
	f.Names = append(f.Names, name)
	f.Servers[name] = srv
	f.TrustOnly(f.Names...)
	return srv
}

// TrustOnly rewrites known_hosts to trust the named hosts only.
func (f *Fleet) TrustOnly(names ...string) {
	f.t.Helper()
	var b strings.Builder
	for _, n := range names {
		b.WriteString(f.Servers[n].KnownHostsLine() + "\n")
	}
	if err := os.WriteFile(f.KnownHosts(), []byte(b.String()), 0o600); err != nil {
		f.t.Fatalf("sshtest: write known_hosts: %v", err)
	}
}

// KnownHosts is the path of the fleet's known_hosts file.
func (f *Fleet) KnownHosts() string { return filepath.Join(f.Dir, "known_hosts") }

// Connection is a YAML inventory's connection line for user, for an
// inventory written in Dir; a timeout of 0 leaves ferry's default.
func (f *Fleet) Connection(user string, timeout time.Duration) string {
	t := ""
	if timeout > 0 {
		t = ", timeout: " + timeout.String()
	}
	return fmt.Sprintf("connection: {user: %s, private_key: %q, known_hosts: known_hosts%s}\n", user, f.KeyFile, t)
}

// HostLines lists the hosts as YAML inventory entries at the given indent.
// Each host's managed files live under its server's Dir, which the entry
// passes as the host variable "root" (and its ferry state folder inside).
func (f *Fleet) HostLines(indent string) string {
	var b strings.Builder
	for _, n := range f.Names {
		srv := f.Servers[n]
		fmt.Fprintf(&b, "%s%s: {address: %s, port: %d, vars: {root: %q, ferry_state_dir: %q}}\n", indent, n, srv.Host, srv.Port, srv.Dir, srv.Dir+"/.ferry")
	}
	return b.String()
}

// ClosedPort returns a loopback port nothing listens on (it was free a
// moment ago), for a host that must be unreachable.
func ClosedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
