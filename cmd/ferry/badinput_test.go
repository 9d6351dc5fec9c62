package main

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// badInputRoles holds the roles of the bad-input cases; each starts with
// a task that would write a file, so a deploy that got as far as running
// anything would show on the hosts.
func badInputRoles(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "badinput", "roles"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// iniInventory writes an Ansible INI inventory of the site's hosts and the
// site file that gives group "site" the role.
func (s *site) iniInventory(role, extraHostLine string) string {
	var b strings.Builder
	b.WriteString("[site]\n")
	for _, n := range s.Names {
		srv := s.Servers[n]
		fmt.Fprintf(&b, "%s ansible_host=%s ansible_port=%d root=%s\n", n, srv.Host, srv.Port, srv.Dir)
	}
	b.WriteString(extraHostLine)
	fmt.Fprintf(&b, "\n[all:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\nansible_ssh_common_args='-o UserKnownHostsFile=%s'\n",
		s.KeyFile, filepath.Join(s.dir, "known_hosts"))
	s.write("site.yml", "- hosts: site\n  roles: ["+role+"]\n", 0o644)
	return s.write("hosts.ini", b.String(), 0o644)
}

// Where a case is stopped: before any connection (the inventory, roles and
// flags are checked on the controller alone) or in the engine's preflight,
// after connecting and reading facts but before the first task.
const (
	stopBeforeConnect = iota
	stopInPreflight
)

func TestBadInputChangesNothing(t *testing.T) {
	rolesPath := badInputRoles(t)
	cases := []struct {
		name string
		// The inventory: group "site" of the hosts runs role (default
		// good), in inventory.yml followed by yamlTail, or in hosts.ini
		// (and site.yml) with ini after the hosts when ini is set. args
		// follow "deploy -i INVENTORY"; %INV% in want is its path.
		role, yamlTail, ini string
		args                []string
		want                []string
		stop                int
	}{
		{
			name: "broken YAML inventory", yamlTail: "\tweb: {}\n",
			want: []string{"%INV%:8:", "invalid YAML", "cannot start any token"},
		},
		{
			name: "broken INI inventory", ini: "[web:chidlren]\nsite\n",
			want: []string{"hosts.ini:", `unknown section type "chidlren"`, `did you mean "children"`},
		},
		{
			name: "unknown module", role: "unknown_module",
			want: []string{"unknown_module/role.yml:5", `unknown module "pakage"`, `did you mean "package"`},
		},
		{
			name: "unknown module argument", role: "unknown_arg",
			want: []string{"unknown_arg/role.yml:8", `no argument "mod"`, `did you mean "mode"`},
		},
		{
			name: "template with an undefined variable", role: "undefined_var",
			want: []string{"nothing was changed", "undefined_var/templates/site.conf.tmpl:2", "site_prot"},
			stop: stopInPreflight,
		},
		{
			name: "template syntax error", role: "template_syntax",
			want: []string{"template_syntax/templates/site.conf.tmpl:2", "missing value for if"},
		},
		{
			name: "notify of a handler no role of the play has", role: "undefined_handler",
			want: []string{"undefined_handler/role.yml:4", `no handler named "reload nginx"`},
		},
		{
			name: "delegate_to a host not in the inventory", role: "bad_delegate",
			want: []string{"nothing was changed", "bad_delegate/role.yml:4", `no host "db-01"`},
		},
		{
			name: "roles including each other", role: "include_cycle",
			want: []string{"include_cycle_b/role.yml:2", "import_role: cycle", "include_cycle/role.yml -> "},
		},
		{
			name: "role that does not exist", role: "good, ngnix",
			want: []string{"%INV%:3", `group "site"`, `"ngnix"`, "not found"},
		},
		{
			name: "cycle in groups", yamlTail: "    children: [front]\n  front:\n    children: [back]\n  back:\n    children: [site]\n",
			want: []string{"%INV%:", "cycle in children", "site -> front -> back -> site"},
		},
		{
			name: "invalid --limit pattern", args: []string{"--limit", "h0["},
			want: []string{`--limit "h0["`, "glob"},
		},
		{
			name: "--limit naming nothing", args: []string{"--limit", "sit"},
			want: []string{`--limit "sit"`, `no host or group "sit"`, `did you mean "site"`},
		},
		{
			name: "port out of range", yamlTail: "      h09: {address: 127.0.0.1, port: 70000}\n",
			want: []string{"%INV%:8", "70000", "out of range"},
		},
		{
			name: "host with no address", yamlTail: "      h09: {port: 22}\n",
			want: []string{"%INV%:8", `host "h09" has no address`},
		},
		{
			name: "--forks 0", args: []string{"--forks", "0"},
			want: []string{"--forks 0", "at least 1"},
		},
		{
			name: "--output xml", args: []string{"--output", "xml"},
			want: []string{"--output", `"xml"`, "human or json"},
		},
		{
			name: "--detailed-exitcode without --check", args: []string{"--detailed-exitcode"},
			want: []string{"--detailed-exitcode", "--check"},
		},
		{
			name: "--forks not a number", args: []string{"--forks", "many"},
			want: []string{`"many"`, "--forks"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, []string{"h01", "h02"})
			role := cmp.Or(tc.role, "good")
			var inv string
			if tc.ini != "" {
				inv = s.iniInventory(role, tc.ini)
			} else {
				inv = s.write("inventory.yml", s.connection()+"groups:\n  site:\n    roles: ["+role+"]\n    hosts:\n"+s.hostLines("      ")+tc.yamlTail, 0o644)
			}
			args := append([]string{"deploy", "--roles-path", rolesPath, "-i", inv}, tc.args...)
			before := s.snapshot()
			r := ferryRun(context.Background(), t, args...)
			if r.code != exitBadInput {
				t.Fatalf("exit %d, want %d (err %v)\nstdout:\n%s", r.code, exitBadInput, r.err, r.stdout)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "%INV%", inv)
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.stderr)
				}
			}
			if !strings.HasPrefix(r.stderr, "ferry: ") {
				t.Errorf("stderr %q: want one message starting with \"ferry: \"", r.stderr)
			}
			if after := s.snapshot(); !mapsEqual(before, after) {
				t.Errorf("hosts changed despite bad input:\nbefore %v\nafter  %v", before, after)
			}
			for _, n := range s.Names {
				srv := s.Servers[n]
				switch tc.stop {
				case stopBeforeConnect:
					if c := srv.Connections(); c != 0 {
						t.Errorf("%s: %d connections for input rejected on the controller", n, c)
					}
				case stopInPreflight:
					// Reading facts is one command; the first task would be
					// at least one more.
					if cmds := srv.Commands(); len(cmds) > 1 {
						t.Errorf("%s: %d commands ran before the error (only reading facts may): %q", n, len(cmds), cmds)
					}
				}
			}
			// Bad input is not a run: no recap, no task events.
			if strings.Contains(r.stdout, "RECAP") || strings.Contains(r.stdout, "changed") {
				t.Errorf("stdout of a rejected deploy:\n%s", r.stdout)
			}
		})
	}
}

// TestBadInputControl proves the fixtures of TestBadInputChangesNothing
// would change the hosts: the same inventories (YAML and INI) with the
// good role deploy and write files.
func TestBadInputControl(t *testing.T) {
	rolesPath := badInputRoles(t)
	for _, format := range []string{"yaml", "ini"} {
		t.Run(format, func(t *testing.T) {
			s := newSite(t, []string{"h01", "h02"})
			inv := s.inventory("good", "")
			if format == "ini" {
				inv = s.iniInventory("good", "")
			}
			r := ferryRun(context.Background(), t, "deploy", "--roles-path", rolesPath, "-i", inv)
			if r.code != exitOK {
				t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stdout)
			}
			files := 0
			for k := range s.snapshot() {
				if !strings.Contains(k, ":.ferry") { // ferry's own state: the run lock
					files++
				}
			}
			if files != 2*3 { // per host: root, first, site.conf
				t.Errorf("control deploy wrote %v", s.snapshot())
			}
		})
	}
}
