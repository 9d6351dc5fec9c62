package inventory

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/internal/testfs"
)

const testdataDir = "../testdata/inventory"

// TestLoadBroken loads every broken inventory under testdata and compares
// the whole report: file, line and message of each problem.
func TestLoadBroken(t *testing.T) {
	dir := filepath.Join(testdataDir, "broken")
	tests := []struct {
		file string
		want []string
	}{
		{"syntax.yml", []string{"syntax.yml:2: invalid YAML: did not find expected ',' or ']'"}},
		{"unknown-key.yml", []string{`unknown-key.yml:4: unknown key "hots" in group "db"; did you mean "hosts"?`}},
		{"unknown-top.yml", []string{`unknown-top.yml:1: unknown key "group" at the top level; did you mean "groups"?`}},
		{"unknown-conn.yml", []string{`unknown-conn.yml:1: unknown key "privat_key" in connection; did you mean "private_key"?`}},
		{"conflict.yml", []string{`conflict.yml:7: host "db-01": address 198.18.0.99 conflicts with 198.18.0.31 given at conflict.yml:4`}},
		{"cycle.yml", []string{"cycle.yml:9: cycle in children: web -> frontend -> edge -> web"}},
		{"undefined.yml", []string{
			`undefined.yml:1: order: group "db" is not defined`,
			`undefined.yml:1: order: group "webs" is not defined; did you mean "web"?`,
			`undefined.yml:7: children of "frontend": group "wbe" is not defined; did you mean "web"?`,
		}},
		{"no-address.yml", []string{`no-address.yml:5: host "web-02" has no address`}},
		{"values.yml", []string{
			`values.yml:1: timeout: "soon" is not a positive duration like "10s"`,
			`values.yml:4: serial "0": want a number of hosts (1 or more) or a percentage like "30%"`,
			`values.yml:5: max_fail_percentage: "150" is not a percentage 0-100`,
			`values.yml:7: host "web-01": port: 70000 is out of range 1-65535`,
		}},
		{"become.yml", []string{`become.yml:1: become_password names secret "sudo_password", but the inventory has no secrets file`}},
		{"names.yml", []string{
			`names.yml:5: invalid host name "web 02": use letters, digits, '_', '-' and '.'`,
			`names.yml:6: invalid variable name "http-port": use letters, digits and '_', not starting with a digit`,
		}},
		{"clash.yml", []string{`clash.yml:5: host "web" has the name of a group (declared at clash.yml:2)`}},
		{"drain.yml", []string{
			`drain.yml:3: drain of group "lb": command (the hosts drain themselves) excludes through and backend`,
			`drain.yml:7: drain of group "web" needs through (the load balancers' group) and backend, or command`,
		}},
		{"empty.yml", []string{"empty.yml: the inventory is empty"}},
		{"list.yml", []string{"list.yml:1: expected a mapping at the top level, found a list"}},
		{"nohosts.yml", []string{"nohosts.yml: the inventory has no hosts"}},
		{"section.ini", []string{
			`section.ini:4: unknown section type "child" in "[web:child]"; did you mean "children"?`,
			`section.ini:7: invalid section header "[db"`,
		}},
		{"conflict.ini", []string{`conflict.ini:5: host "web-01": address 198.18.0.22 conflicts with 198.18.0.21 given at conflict.ini:2`}},
		{"cycle.ini", []string{"cycle.ini:9: cycle in children: frontend -> edge -> frontend"}},
		{"ansible.ini", []string{
			`ansible.ini:2: host pattern "web[1:]": host range must specify end value`,
			`ansible.ini:3: host pattern "web-[a:3]": host range [a:3] mixes letters and numbers or is not a range`,
			`ansible.ini:4: [db:vars] for undefined group "db": define it with [db] or [db:children]`,
			`ansible.ini:7: children of "a": group "b" is not defined (only its vars are)`,
			`ansible.ini:8: [b:vars] for undefined group "b": define it with [b] or [b:children]`,
			`ansible.ini:11: invalid section header "[2001:db8::1"`,
		}},
		{"vault/hosts", []string{
			"vault/group_vars/all/vault.yml:1: encrypted with Ansible Vault, which ferry does not read: put its secrets in ferry's secrets file (age)",
			`vault/group_vars/web.yml:2: variable "db_password": Ansible Vault values (!vault) are not supported: put the secret in ferry's secrets file`,
		}},
		{"gvars2/inventory.yml", []string{`gvars2/group_vars/web.yml: group_vars for "web": both web and web.yml exist, and only the first would be read: merge them`}},
		{"neither.yml", []string{`neither.yml:4: neither ferry's inventory format (top-level groups:, vars:, connection:, order:, secrets:) nor Ansible's (groups at the top level, such as all:, each with only hosts:, children: and vars:); "chidren" is not one of them; did you mean "children"?`}},
		{"ungrouped-parent.ini", []string{`ungrouped-parent.ini:2: "ungrouped" cannot have child groups ("web")`}},
		{"ungrouped-child.ini", []string{`ungrouped-child.ini:4: group "web": "ungrouped" cannot be a child group`}},
		{"undefined.ini", []string{`undefined.ini:5: children of "frontend": group "wbe" is not defined; did you mean "web"?`}},
		{"values.ini", []string{
			`values.ini:2: ansible_port: 0 is out of range 1-65535`,
			`values.ini:3: invalid host pattern "web-02:70000": port out of range 1-65535`,
			`values.ini:4: host "web-03": expected key=value, found "http_port"`,
			`values.ini:5: host pattern "web-[4:]": host range must specify end value`,
			`values.ini:6: ansible_ssh_common_args: only -J HOST, -o ProxyJump=HOST and -o UserKnownHostsFile=PATH are supported, found "-o StrictHostKeyChecking=no": other ssh options are refused on purpose, since some weaken host-key checking; put the rest in ~/.ssh/config`,
			`values.ini:7: ansible_become: "maybe" is not true or false`,
			`values.ini:8: ansible_become_password: write "{{ secret_name }}" naming a key of the secrets file, not the password (plain-text passwords are refused on purpose)`,
			`values.ini:9: unterminated " quote`,
			`values.ini:11: ansible_connection: ferry connects over SSH only; ansible_connection=local is refused rather than ignored`,
			`values.ini:12: ansible_ssh_pass: ferry logs in with keys (ansible_ssh_private_key_file or ssh-agent); an SSH password is refused rather than ignored`,
		}},
		{"gvars/inventory.yml", []string{
			`gvars/group_vars/wbe.yml: group_vars for unknown group "wbe"; did you mean "web"?`,
			"gvars/group_vars/web.yml:2: invalid YAML: mapping values are not allowed in this context",
		}},
		{"site/hosts.ini", []string{
			`site/site.yml:3: unknown key "tasks" in play 1`,
			`site/site.yml:4: order: group "dbs" is not defined; did you mean "db"?`,
			`site/site.yml:6: group "web" already has a play at line 1`,
			"site/site.yml:8: play 4: hosts: GROUP is required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			inv, err := Load(filepath.Join(dir, tt.file))
			if err == nil {
				t.Fatalf("Load succeeded with %d hosts, want errors", len(inv.Hosts))
			}
			if inv != nil {
				t.Errorf("Load returned an inventory along with an error")
			}
			var first *Error
			if !errors.As(err, &first) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			got := strings.Split(strings.ReplaceAll(err.Error(), dir+"/", ""), "\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestLoadBrokenLines makes sure every problem of every broken inventory
// names a file, and that only whole-file problems lack a line.
func TestLoadBrokenLines(t *testing.T) {
	whole := map[string]bool{"empty.yml": true, "nohosts.yml": true, "gvars/inventory.yml": true, "gvars2/inventory.yml": true}
	err := filepath.WalkDir(filepath.Join(testdataDir, "broken"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, "/group_vars/") || d.Name() == SiteFile {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(testdataDir, "broken"), path)
		_, lerr := Load(path)
		var list ErrorList
		var one *Error
		switch {
		case errors.As(lerr, &list):
		case errors.As(lerr, &one):
			list = ErrorList{one}
		default:
			t.Errorf("%s: got %v, want *Error or ErrorList", rel, lerr)
			return nil
		}
		for _, e := range list {
			if e.File == "" || (e.Line == 0 && !whole[rel]) {
				t.Errorf("%s: problem without a place: %v", rel, e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want one wrapping fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "nope.yml: cannot read inventory: no such file or directory") {
		t.Errorf("message = %q", err)
	}
}

// snapshot is what must agree between the two seed formats: everything but
// declaration places.
type snapshot struct {
	Hosts      map[string]Host
	Groups     map[string]Group
	Order      []string
	GroupOrder []string
	Vars       map[string]map[string]any
	Conn       Connection
}

func snap(t *testing.T, path string) snapshot {
	t.Helper()
	inv, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	s := snapshot{Hosts: map[string]Host{}, Groups: map[string]Group{}, Vars: map[string]map[string]any{},
		Order: inv.Order, GroupOrder: inv.GroupOrder(), Conn: inv.Connection}
	var names []string
	for _, h := range inv.Hosts {
		c := *h
		c.File, c.Line = "", 0
		s.Hosts[h.Name] = c
		s.Vars[h.Name] = inv.VarsFor(h, nil, nil)
		names = append(names, h.Name)
	}
	s.Hosts["(order)"] = Host{Groups: names}
	for name, g := range inv.Groups {
		c := *g
		c.File, c.Line = "", 0
		s.Groups[name] = c
	}
	return s
}

// TestSeedFormatsAgree proves that seed.yml and seed.ini (with site.yml and
// the shared group_vars/host_vars) describe the same deployment.
func TestSeedFormatsAgree(t *testing.T) {
	y := snap(t, filepath.Join(testdataDir, "seed.yml"))
	i := snap(t, filepath.Join(testdataDir, "seed.ini"))
	if !reflect.DeepEqual(y, i) {
		t.Errorf("seed.yml and seed.ini differ:\n yml %+v\n ini %+v", y, i)
	}
}

// TestSeed checks the seed against the topology it must describe, so that
// the agreement above cannot be two identical mistakes.
func TestSeed(t *testing.T) {
	inv, err := Load(filepath.Join(testdataDir, "seed.yml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"lb-01": "198.18.0.11", "lb-02": "198.18.0.12", "web-01": "198.18.0.21",
		"web-02": "198.18.0.22", "db-01": "198.18.0.31", "db-02": "198.18.0.32"}
	if len(inv.Hosts) != len(want) {
		t.Errorf("%d hosts, want %d", len(inv.Hosts), len(want))
	}
	for name, addr := range want {
		h := inv.Host(name)
		if h == nil || h.Address != addr {
			t.Errorf("host %s = %+v, want address %s", name, h, addr)
		}
	}
	if got := inv.GroupOrder(); !reflect.DeepEqual(got, []string{"db", "web", "lb"}) {
		t.Errorf("GroupOrder = %v", got)
	}
	for host, role := range map[string]string{"db-01": "primary", "db-02": "replica"} {
		if got := inv.VarsFor(inv.Host(host), nil, nil)["mysql_role"]; got != role {
			t.Errorf("%s mysql_role = %v, want %s", host, got, role)
		}
	}
	if got := inv.Groups["web"].Serial.String(); got != "1" {
		t.Errorf("web serial = %q", got)
	}
	if got := inv.Groups["lb"].Roles; !reflect.DeepEqual(got, []string{"common", "firewall", "tls", "haproxy", "keepalived"}) {
		t.Errorf("lb roles = %v", got)
	}
	conn := inv.Host("web-01").Conn
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	wantConn := Connection{User: "root",
		PrivateKey: abs(filepath.Join(testdataDir, "../.lab/id_ed25519")),
		KnownHosts: abs(filepath.Join(testdataDir, "../.lab/known_hosts"))}
	if conn != wantConn {
		t.Errorf("web-01 connection = %+v, want %+v", conn, wantConn)
	}
}

// loadTree writes files and loads the inventory named inv among them.
func loadTree(t *testing.T, inv string, files map[string]string) (*Inventory, error) {
	t.Helper()
	return Load(filepath.Join(testfs.WriteTree(t, files), inv))
}
