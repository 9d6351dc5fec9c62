package inventory

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// summary renders what an inventory resolves to, one line per host plus one
// per group in run order, so that table cases can state it as text.
func summary(inv *Inventory) string {
	var b strings.Builder
	for _, h := range inv.Hosts {
		c := h.Conn
		if c.Port == 0 {
			c.Port = 22 // unset: ssh_config's port, else 22
		}
		fmt.Fprintf(&b, "%s %s %v %s@:%d", h.Name, h.Address, h.Groups, c.User, c.Port)
		if c.Become {
			b.WriteString(" become")
		}
		if c.BecomePasswordVar != "" {
			fmt.Fprintf(&b, " sudo=%s", c.BecomePasswordVar)
		}
		if c.ProxyJump != "" {
			fmt.Fprintf(&b, " jump=%s", c.ProxyJump)
		}
		if c.PrivateKey != "" {
			fmt.Fprintf(&b, " key=%s", filepath.Base(c.PrivateKey))
		}
		if c.KnownHosts != "" {
			fmt.Fprintf(&b, " kh=%s", filepath.Base(c.KnownHosts))
		}
		if c.Timeout != 0 {
			fmt.Fprintf(&b, " timeout=%s", c.Timeout)
		}
		vars := inv.VarsFor(h, nil, nil)
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			fmt.Fprintf(&b, " %s=%#v", k, vars[k])
		}
		b.WriteString("\n")
	}
	for _, name := range inv.GroupOrder() {
		g := inv.Groups[name]
		fmt.Fprintf(&b, "@%s %v children=%v", name, g.Roles, g.Children)
		if !g.Serial.IsZero() {
			fmt.Fprintf(&b, " serial=%s", g.Serial)
		}
		if g.MaxFailPercentage != 0 {
			fmt.Fprintf(&b, " maxfail=%d", g.MaxFailPercentage)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string // the only file, inv.yml; or
		ini   string // the only file, hosts (INI); or
		inv   string // which file of files to load
		files map[string]string
		want  string
	}{{
		name: "yaml children: child group vars win over parent's",
		yaml: `
vars: {x: all, y: all}
groups:
  frontend:
    children: [web]
    vars: {x: frontend, y: frontend, z: frontend}
  web:
    vars: {x: web}
    hosts:
      web-01: {address: 198.18.0.21}
`,
		want: `web-01 198.18.0.21 [all frontend web] @:22 x="web" y="frontend" z="frontend"
@frontend [] children=[web]
@web [] children=[]
`,
	}, {
		name: "yaml host in two groups needs its address once; vars merge",
		yaml: `
groups:
  db:
    hosts:
      db-01: {address: 198.18.0.31, vars: {a: 1}}
  backup:
    hosts:
      db-01: {vars: {b: true}}
      db-02: {address: 198.18.0.32}
  monitor:
    hosts:
      db-01: {address: 198.18.0.31}
`,
		want: `db-01 198.18.0.31 [all backup db monitor] @:22 a=1 b=true
db-02 198.18.0.32 [all backup] @:22
@db [] children=[]
@backup [] children=[]
@monitor [] children=[]
`,
	}, {
		name: "yaml connection: inventory < group < host",
		yaml: `
connection: {user: root, known_hosts: kh, timeout: 5s}
groups:
  web:
    connection: {port: 2222, become: true}
    hosts:
      web-01: {address: 198.18.0.21, user: deploy}
      web-02: {address: 198.18.0.22, connection: {become: false, proxy_jump: "jump@198.18.0.5:22"}}
  db:
    hosts:
      db-01: {address: 198.18.0.31, port: 2200}
`,
		want: `web-01 198.18.0.21 [all web] deploy@:2222 become kh=kh timeout=5s
web-02 198.18.0.22 [all web] root@:2222 jump=jump@198.18.0.5:22 kh=kh timeout=5s
db-01 198.18.0.31 [all db] root@:2200 kh=kh timeout=5s
@web [] children=[]
@db [] children=[]
`,
	}, {
		name: "yaml all with roles runs; order first, then declaration order",
		yaml: `
order: [lb]
groups:
  all:
    roles: [common]
    serial: 30%
    max_fail_percentage: 10
  web:
    hosts: {web-01: {address: 198.18.0.21}}
  lb:
    hosts: {lb-01: {address: 198.18.0.11}}
`,
		want: `web-01 198.18.0.21 [all web] @:22
lb-01 198.18.0.11 [all lb] @:22
@lb [] children=[]
@all [common] children=[web lb] serial=30% maxfail=10
@web [] children=[]
`,
	}, {
		name: "siblings of one depth: the later name wins",
		yaml: `
groups:
  zeta: {vars: {x: zeta}, hosts: {h1: {address: 198.18.0.1}}}
  alpha: {vars: {x: alpha}, hosts: {h1: {}}}
`,
		want: `h1 198.18.0.1 [all alpha zeta] @:22 x="zeta"
@zeta [] children=[]
@alpha [] children=[]
`,
	}, {
		name: "ferry yaml: Ansible connection variables act at their level",
		yaml: `
groups:
  web:
    vars: {ansible_port: 2222, ansible_user: deploy}
    hosts:
      web-01: {address: 198.18.0.21, port: 2200}
      web-02: {address: 198.18.0.22}
`,
		want: `web-01 198.18.0.21 [all web] deploy@:2200
web-02 198.18.0.22 [all web] deploy@:2222
@web [] children=[]
`,
	}, {
		name: "yaml anchors and aliases",
		yaml: `
groups:
  web:
    vars: &common {port_http: 80}
    hosts:
      web-01: {address: 198.18.0.21, vars: *common}
`,
		want: `web-01 198.18.0.21 [all web] @:22 port_http=80
@web [] children=[]
`,
	}, {
		name: "group_vars and host_vars override the inventory; a folder's files in order",
		inv:  "inv.yml",
		files: map[string]string{
			"inv.yml": `
vars: {a: inline, ansible_like: 1}
groups:
  web:
    vars: {b: inline}
    hosts: {web-01: {vars: {c: inline}}}
`,
			"group_vars/all.yml":         "a: all.yml\nansible_user: deploy\nansible_ssh_common_args: -J bastion\n",
			"group_vars/web/10-more.yml": "e: web/10-more.yml\n",
			"group_vars/web/README.md":   "not yaml: [\n",
			"host_vars/web-01/main.yaml": "c: host_vars\nansible_port: 2222\nansible_host: 198.18.0.99\n",
		},
		want: `web-01 198.18.0.99 [all web] deploy@:2222 jump=bastion a="all.yml" ansible_like=1 b="inline" c="host_vars" e="web/10-more.yml"
@web [] children=[]
`,
	}, {
		name: "ini: ungrouped, address from name, host:port, values typed as Python literals",
		ini: `
; comment
bastion:2200   # inline comment
[web]
web-01 ansible_host=198.18.0.21 n=8080 on=true s="8080" t='a b' ratio=0.5 path=/srv/www
web-02 ansible_host=198.18.0.22 ansible_user=deploy ansible_become=yes ansible_ssh_common_args="-J bastion -o UserKnownHostsFile=kh"
[web:vars]
http_port=80 ; comment
quoted = "x # y"
[frontend:children]
web
[all:vars]
ansible_ssh_private_key_file=id
`,
		want: `bastion bastion [all ungrouped] @:2200 key=id
web-01 198.18.0.21 [all frontend web] @:22 key=id http_port="80 ; comment" n=8080 on="true" path="/srv/www" quoted="x # y" ratio=0.5 s=8080 t="a b"
web-02 198.18.0.22 [all frontend web] deploy@:22 become jump=bastion key=id kh=kh http_port="80 ; comment" quoted="x # y"
@ungrouped [] children=[]
@web [] children=[]
@frontend [] children=[web]
`,
	}, {
		name: "ini: a host before any section that a group lists is not ungrouped",
		ini:  "web-01\nsolo\n[web]\nweb-01 ansible_host=198.18.0.21\n",
		want: `web-01 198.18.0.21 [all web] @:22
solo solo [all ungrouped] @:22
@ungrouped [] children=[]
@web [] children=[]
`,
	}, {
		name: "ini: ungrouped disappears when it ends up empty",
		ini:  "web-01\n[web]\nweb-01 ansible_host=198.18.0.21\n",
		want: `web-01 198.18.0.21 [all web] @:22
@web [] children=[]
`,
	}, {
		name: "ini with site file: roles, serial, order from plays",
		inv:  "hosts.ini",
		files: map[string]string{
			"hosts.ini": "[web]\nweb-01\n[db]\ndb-01\n[lb]\nlb-01\n",
			"site.yml": `
- name: databases first
  hosts: db
  roles: [mysql]
  max_fail_percentage: 0
- hosts: web
  roles: [common, nginx]
  serial: 50%
  max_fail_percentage: 20
`,
		},
		want: `web-01 web-01 [all web] @:22
db-01 db-01 [all db] @:22
lb-01 lb-01 [all lb] @:22
@db [mysql] children=[]
@web [common nginx] children=[] serial=50% maxfail=20
@lb [] children=[]
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, files := tt.inv, tt.files
			switch {
			case tt.yaml != "":
				name, files = "inv.yml", map[string]string{"inv.yml": tt.yaml}
			case tt.ini != "":
				name, files = "hosts", map[string]string{"hosts": tt.ini}
			}
			inv, err := loadTree(t, name, files)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(inv); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
