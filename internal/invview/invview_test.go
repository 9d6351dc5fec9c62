package invview

import (
	"path/filepath"
	"testing"

	"github.com/ferry-deploy/ferry/internal/testfs"
	"github.com/ferry-deploy/ferry/inventory"
)

func TestView(t *testing.T) {
	dir := testfs.WriteTree(t, map[string]string{"inv.yml": `vars: {port: 80}
groups:
  web:
    hosts:
      web-01: {address: 198.18.0.21}
      web-02: {address: 198.18.0.22, vars: {port: 8080}}
  empty: {}
`})
	inv, err := inventory.Load(filepath.Join(dir, "inv.yml"))
	if err != nil {
		t.Fatal(err)
	}
	v := New(inv, map[string]any{"release": 42})
	hosts, ok := v.HostsOf("web")
	if !ok || len(hosts) != 2 || hosts[0].Name != "web-01" || hosts[1].Address != "198.18.0.22" || hosts[1].Vars["port"] != 8080 {
		t.Errorf("HostsOf(web) = %+v, %v", hosts, ok)
	}
	if hosts, ok := v.HostsOf("empty"); !ok || len(hosts) != 0 {
		t.Errorf("HostsOf(empty) = %+v, %v; want no hosts, true", hosts, ok)
	}
	if _, ok := v.HostsOf("db"); ok {
		t.Error("HostsOf(db): a group that does not exist")
	}
	vars, ok := v.HostVars("web-01")
	if !ok || vars["port"] != 80 || vars["release"] != 42 {
		t.Errorf("HostVars(web-01) = %v, %v; want the inventory's and the -e variables", vars, ok)
	}
	if _, ok := v.HostVars("web-09"); ok {
		t.Error("HostVars(web-09): a host that does not exist")
	}
}
