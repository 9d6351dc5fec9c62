package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferry-deploy/ferry/internal/invview"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/pki"
	"github.com/ferry-deploy/ferry/roles"
	"github.com/ferry-deploy/ferry/roles/support"
	"github.com/ferry-deploy/ferry/runner"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/facts"
	"github.com/ferry-deploy/ferry/runner/hostconn"
	"github.com/ferry-deploy/ferry/runner/local"
	"github.com/ferry-deploy/ferry/runner/sshx"
	"github.com/ferry-deploy/ferry/runner/statedir"
	"github.com/ferry-deploy/ferry/templates"
)

// fanoutFlags are the options of every command that works on many hosts at
// once: how many at a time (--forks) and how to reach them.
type fanoutFlags struct {
	forks int
	conn  connFlags
}

// register adds --forks, whose usage says what a host does at once in
// this command, and the connection flags.
func (f *fanoutFlags) register(fl *pflag.FlagSet, forksUsage string) {
	fl.IntVarP(&f.forks, "forks", "f", 50, forksUsage)
	f.conn.register(fl)
}

// check rejects values no run could use, before the inventory is read.
func (f *fanoutFlags) check() error {
	if f.forks < 1 {
		return badInput(fmt.Errorf("--forks %d: must be at least 1", f.forks))
	}
	return f.conn.check()
}

// connFlags are the connection options shared by commands that reach hosts.
type connFlags struct {
	acceptNew bool
	timeout   time.Duration // 0: the inventory's, else sshx's default
}

func (c *connFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&c.acceptNew, "accept-new-host-keys", false, "trust and record the host key of hosts seen for the first time (a changed key is always refused)")
	fl.DurationVar(&c.timeout, "timeout", 0, "connect timeout per host (default: the inventory's timeout, else 10s)")
}

// check rejects flag values no connection could use.
func (c *connFlags) check() error {
	if c.timeout < 0 {
		return badInput(fmt.Errorf("--timeout %s: must be positive", c.timeout))
	}
	return nil
}

// sshConfig is a host's SSH settings: the inventory's, with --timeout
// overriding its timeout only when given, and the host-key policy.
func (c *connFlags) sshConfig(inv *inventory.Inventory, h *inventory.Host) sshx.Config {
	cfg := hostconn.SSHConfig(h, inv.Secrets, filepath.Dir(inv.Path))
	cfg.AcceptNewHostKeys = c.acceptNew
	if c.timeout > 0 {
		cfg.ConnectTimeout = c.timeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = sshx.DefaultConnectTimeout
	}
	return cfg
}

// connector opens one connection per host: SSH, or the controller itself
// for a host whose address is "localhost".
func (c *connFlags) connector(inv *inventory.Inventory) func(context.Context, *inventory.Host) (executor.Executor, error) {
	return func(ctx context.Context, h *inventory.Host) (executor.Executor, error) {
		if h.Address == "localhost" {
			return local.New(local.Options{SudoPassword: inv.Secrets[h.Conn.BecomePasswordVar]}), nil
		}
		return sshx.Dial(ctx, c.sshConfig(inv, h))
	}
}

// loadBalancer drains hosts through HAProxy's runtime API (the haproxy
// role's admin socket), the load balancer of the built-in roles.
var loadBalancer runner.LoadBalancer = support.HAProxy{}

func gatherFacts(ctx context.Context, x executor.Executor, w statedir.Where) (map[string]any, statedir.Left, error) {
	return facts.GatherIn(ctx, x, w)
}

// newRoleLoader searches --roles-path folders, then roles/ beside the
// inventory, then the built-in roles.
func newRoleLoader(inventoryPath string, rolesPath []string) *roles.Loader {
	return &roles.Loader{Paths: roles.SearchPath(rolesPath, inventoryPath), Builtin: true}
}

// newRenderer builds the template engine for a deploy: helpers read the
// inventory, readFile starts at the inventory's folder, and the lab CA lives
// in its .ferry/pki.
func newRenderer(inv *inventory.Inventory, extra map[string]any) *templates.Engine {
	dir := filepath.Dir(inv.Path)
	return templates.New(templates.Options{
		Inventory: invview.New(inv, extra),
		BaseDir:   dir,
		PKI:       pki.New(filepath.Join(dir, ".ferry", "pki")),
	})
}
