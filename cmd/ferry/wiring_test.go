package main

import (
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

// TestConnTimeoutPrecedence: --timeout wins when given; otherwise the
// inventory's timeout holds, and without either sshx's default applies.
func TestConnTimeoutPrecedence(t *testing.T) {
	inv := &inventory.Inventory{Path: "inventory.yml"}
	withTimeout := &inventory.Host{Name: "a", Address: "198.18.0.21", Conn: inventory.Connection{Timeout: 3 * time.Second}}
	without := &inventory.Host{Name: "b", Address: "198.18.0.22"}
	for _, tt := range []struct {
		flag time.Duration
		host *inventory.Host
		want time.Duration
	}{
		{0, withTimeout, 3 * time.Second},
		{0, without, sshx.DefaultConnectTimeout},
		{7 * time.Second, withTimeout, 7 * time.Second},
		{7 * time.Second, without, 7 * time.Second},
	} {
		c := connFlags{timeout: tt.flag}
		if got := c.sshConfig(inv, tt.host).ConnectTimeout; got != tt.want {
			t.Errorf("--timeout %s, host %s: timeout %s, want %s", tt.flag, tt.host.Name, got, tt.want)
		}
	}
	if err := (&connFlags{timeout: -time.Second}).check(); exitCode(err) != exitBadInput {
		t.Errorf("negative --timeout: %v", err)
	}
}
