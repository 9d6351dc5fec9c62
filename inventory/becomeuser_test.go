package inventory

import (
	"strings"
	"testing"
)

// connection: become_user sets the user become runs tasks as; a host's
// wins over its group's; a value that is not a user name is an error
// naming file and line.
func TestConnectionBecomeUser(t *testing.T) {
	inv, err := loadTree(t, "inv.yml", map[string]string{"inv.yml": `groups:
  app:
    connection: {become: true, become_user: app}
    hosts:
      a1: {address: 198.18.0.21}
      a2: {address: 198.18.0.22, connection: {become_user: deploy}}
`})
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Host("a1").Conn; got.BecomeUser != "app" || !got.Become {
		t.Errorf("a1: %+v", got)
	}
	if got := inv.Host("a2").Conn.BecomeUser; got != "deploy" {
		t.Errorf("a2: become_user %q, want the host's", got)
	}
	_, err = loadTree(t, "inv.yml", map[string]string{"inv.yml": "connection: {become_user: \"app; reboot\"}\nhosts:\n  a1: {address: 198.18.0.21}\n"})
	if err == nil || !strings.Contains(err.Error(), "inv.yml:1") || !strings.Contains(err.Error(), "is not a user name") {
		t.Errorf("err = %v, want inv.yml:1 ... not a user name", err)
	}
}

// Ansible's ansible_become_user sets it from an INI inventory, and
// `inventory list` gives it back as Ansible has it.
func TestAnsibleBecomeUser(t *testing.T) {
	inv, err := loadTree(t, "hosts.ini", map[string]string{"hosts.ini": "[app]\na1 ansible_host=198.18.0.21 ansible_become=true ansible_become_user=app\n"})
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Host("a1")
	if h.Conn.BecomeUser != "app" {
		t.Errorf("become_user %q", h.Conn.BecomeUser)
	}
	if _, isVar := inv.VarsFor(h, nil, nil)["ansible_become_user"]; isVar {
		t.Error("ansible_become_user is a connection setting, not a template variable")
	}
}
