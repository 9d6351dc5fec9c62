package hostconn_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/hostconn"
	"github.com/ferry-deploy/ferry/runner/sshx"
)

func TestSSHConfig(t *testing.T) {
	h := &inventory.Host{Name: "db-01", Address: "198.18.0.31", Conn: inventory.Connection{
		User: "deploy", Port: 2200, PrivateKey: "keys/id", KnownHosts: "/abs/known_hosts",
		ProxyJump: "jump@198.18.0.2", BecomePasswordVar: "db_sudo", Timeout: 3 * time.Second,
	}}
	cfg := hostconn.SSHConfig(h, map[string]string{"db_sudo": "s3cret"}, "/inv")
	want := sshx.Config{
		Host: "db-01", Address: "198.18.0.31", Port: 2200, User: "deploy",
		PrivateKeys: []string{"/inv/keys/id"}, KnownHostsFile: "/abs/known_hosts",
		ProxyJump: "jump@198.18.0.2",
		UseAgent:  true, SudoPassword: "s3cret", ConnectTimeout: 3 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("SSHConfig =\n%+v\nwant\n%+v", cfg, want)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg); strings.Contains(s, "s3cret") {
		t.Errorf("formatting a Config shows the sudo password: %s", s)
	}

	h.Conn.ProxyJump = "bastion:nope"
	if _, err := sshx.Dial(context.Background(), hostconn.SSHConfig(h, nil, "/inv")); err == nil || !strings.Contains(err.Error(), "bastion:nope") {
		t.Errorf("bad ProxyJump: Dial error %v", err)
	}
}
