package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployAnsibleFormats deploys through each of Ansible's other
// inventory formats (YAML, a dynamic script, ansible-inventory --list JSON)
// with roles from site.yml and the connection set at group level, as
// Ansible users write it: the same hosts change as with ferry's own format.
func TestDeployAnsibleFormats(t *testing.T) {
	rolesPath := badInputRoles(t)
	for _, format := range []string{"yaml", "script", "json"} {
		t.Run(format, func(t *testing.T) {
			s := newSite(t, []string{"h01", "h02"})
			s.write("site.yml", "- hosts: site\n  roles: [good]\n", 0o644)
			allVars := map[string]any{
				"ansible_user":                 "root",
				"ansible_ssh_private_key_file": s.KeyFile,
				"ansible_ssh_common_args":      "-o UserKnownHostsFile=" + filepath.Join(s.dir, "known_hosts"),
			}
			hostvars := map[string]any{}
			for _, n := range s.Names {
				srv := s.Servers[n]
				hostvars[n] = map[string]any{"ansible_host": srv.Host, "ansible_port": srv.Port, "root": srv.Dir}
			}
			list, err := json.Marshal(map[string]any{
				"all":   map[string]any{"vars": allVars, "children": []string{"site"}},
				"site":  map[string]any{"hosts": s.Names},
				"_meta": map[string]any{"hostvars": hostvars},
			})
			if err != nil {
				t.Fatal(err)
			}
			var inv string
			switch format {
			case "yaml":
				// JSON is YAML: Ansible's YAML shape, written as JSON.
				var b strings.Builder
				b.WriteString("all:\n  vars: " + mustJSON(t, allVars) + "\n  children:\n    site:\n      hosts:\n")
				for _, n := range s.Names {
					fmt.Fprintf(&b, "        %s: %s\n", n, mustJSON(t, hostvars[n]))
				}
				inv = s.write("hosts.yml", b.String(), 0o644)
			case "script":
				inv = s.write("inventory.sh", "#!/bin/sh\n[ \"$1\" = --list ] || { echo '{}'; exit 0; }\ncat <<'EOF'\n"+string(list)+"\nEOF\n", 0o755)
			case "json":
				inv = s.write("inventory.json", string(list), 0o644)
			}
			r := ferryRun(context.Background(), t, "deploy", "--roles-path", rolesPath, "-i", inv)
			if r.code != exitOK {
				t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stdout)
			}
			if len(s.snapshot()) != 2*3 { // per host: root, first, site.conf
				t.Errorf("deploy wrote %v", s.snapshot())
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
