package sshx_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostconn"
	"github.com/ferry-deploy/ferry/runner/sshtest"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// TestSSHConfigPortFromInventory: an inventory host whose address is an
// ssh_config alias and that gives no port is dialled on ssh_config's Port,
// as ssh does; a port the inventory gives wins over ssh_config's.
func TestSSHConfigPortFromInventory(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	sshConfig := filepath.Join(dir, "ssh_config")
	writeFile(t, sshConfig, "Host myalias\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(f.srv.Port)+"\n", 0o600)

	closed := sshtest.ClosedPort(t)

	invFile := filepath.Join(dir, "hosts.yml")
	writeFile(t, invFile, `connection: {user: deploy, private_key: `+f.keyF+`, known_hosts: `+f.known+`}
groups:
  web:
    hosts:
      aliased: {address: myalias}
      explicit: {address: myalias, port: `+strconv.Itoa(closed)+`}
`, 0o644)
	inv, err := inventory.Load(invFile)
	if err != nil {
		t.Fatal(err)
	}
	// The known_hosts entry names 127.0.0.1 with the server's port.
	cfg := hostconn.SSHConfig(inv.Host("aliased"), nil, dir)
	cfg.SSHConfigFile, cfg.UseAgent, cfg.ConnectTimeout = sshConfig, false, 5*time.Second
	c := dial(t, cfg)
	if res := run(t, c, executor.Command{Script: "echo reached"}); strings.TrimSpace(string(res.Stdout)) != "reached" {
		t.Errorf("stdout %q", res.Stdout)
	}

	cfg = hostconn.SSHConfig(inv.Host("explicit"), nil, dir)
	cfg.SSHConfigFile, cfg.UseAgent, cfg.ConnectTimeout = sshConfig, false, 5*time.Second
	if c, err := sshx.Dial(context.Background(), cfg); err == nil {
		c.Close()
		t.Error("the inventory's explicit port lost to ssh_config's Port")
	} else if !strings.Contains(err.Error(), strconv.Itoa(closed)) && !strings.Contains(err.Error(), "refused") {
		t.Errorf("explicit port: unexpected error %v", err)
	}
	_ = os.Remove(sshConfig)
}
