package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The -update flag rewrites golden files. Other test files of this package
// may define it too; whoever comes first owns it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// runInventoryCmd runs ferry in-process (ferryRun) and returns stdout,
// the exit code main would use, and the command's error.
func runInventoryCmd(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	r := ferryRun(context.Background(), t, args...)
	return r.stdout, r.code, r.err
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "inventory", name)
	if updateGolden() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestInventoryGolden runs each command on both seed formats against one
// golden file: the YAML and INI seeds must show the same thing.
func TestInventoryGolden(t *testing.T) {
	seedDir := filepath.Join("..", "..", "testdata", "inventory")
	tests := []struct {
		golden string
		args   []string
	}{
		{"list.golden", []string{"inventory", "list"}},
		{"graph.golden", []string{"inventory", "graph"}},
		{"graph-web.golden", []string{"inventory", "graph", "web"}},
		{"vars-db-01.golden", []string{"inventory", "vars", "db-01"}},
		{"vars-lb-02-extra.golden", []string{"inventory", "vars", "lb-02", "-e", "keepalived_priority=90", "-e", "site_name=test.ferry.test"}},
	}
	for _, seed := range []string{"seed.yml", "seed.ini"} {
		for _, tt := range tests {
			t.Run(seed+"/"+tt.golden, func(t *testing.T) {
				args := append(append([]string{}, tt.args...), "-i", filepath.Join(seedDir, seed))
				out, code, err := runInventoryCmd(t, args...)
				if code != exitOK {
					t.Fatalf("exit %d: %v", code, err)
				}
				if updateGolden() && seed != "seed.yml" {
					t.Skip("golden files are written from seed.yml")
				}
				checkGolden(t, tt.golden, out)
			})
		}
	}
}

func TestInventoryBadInput(t *testing.T) {
	broken := filepath.Join("..", "..", "testdata", "inventory", "broken")
	seed := filepath.Join("..", "..", "testdata", "inventory", "seed.yml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"broken inventory", []string{"inventory", "list", "-i", filepath.Join(broken, "unknown-key.yml")},
			`unknown-key.yml:4: unknown key "hots" in group "db"; did you mean "hosts"?`},
		{"broken ini", []string{"inventory", "graph", "-i", filepath.Join(broken, "cycle.ini")},
			"cycle.ini:9: cycle in children: frontend -> edge -> frontend"},
		{"missing file", []string{"inventory", "vars", "web-01", "-i", "nope.yml"}, "nope.yml: cannot read inventory"},
		{"no -i", []string{"inventory", "list"}, "no inventory: give -i FILE"},
		{"unknown host", []string{"inventory", "vars", "web-09", "-i", seed}, `no host "web-09"`},
		{"bad -e", []string{"inventory", "vars", "web-01", "-i", seed, "-e", "novalue"}, "want key=value or @file.yml"},
		{"unknown group", []string{"inventory", "graph", "nope", "-i", seed}, `no group "nope"`},
		{"vars needs a host", []string{"inventory", "vars", "-i", seed}, "accepts 1 arg"},
		{"failing script", []string{"inventory", "list", "-i", filepath.Join("..", "..", "testdata", "inventory-ansible", "broken-script-fails", "inventory.sh")},
			"broken-script-fails/inventory.sh: inventory script (run with --list) failed with exit status 1: cannot reach the cloud API"},
		{"bad output format", []string{"inventory", "list", "-i", seed, "--output", "yaml"}, `--output "yaml": want human or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, code, err := runInventoryCmd(t, tt.args...)
			if code != exitBadInput {
				t.Errorf("exit code %d, want %d", code, exitBadInput)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestInventoryVarsMasksSecrets: a secret never reaches the output, neither
// under its own name nor copied into another variable.
func TestInventoryVarsMasksSecrets(t *testing.T) {
	const canary = "CANARY-91d2-s3cr3t"
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.yml")
	files := map[string]string{
		inv:                               "secrets: secrets.yml\ngroups:\n  db:\n    hosts:\n      db-01: {address: 198.18.0.31}\n",
		filepath.Join(dir, "secrets.yml"): "db_password: " + canary + "\n",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range [][]string{
		{"inventory", "vars", "db-01", "-i", inv, "-e", "dsn=mysql://app:" + canary + "@db"},
		{"inventory", "list", "-i", inv},
		{"inventory", "list", "-i", inv, "--output", "json"},
		{"inventory", "graph", "-i", inv},
	} {
		out, code, err := runInventoryCmd(t, cmd...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %v", cmd, code, err)
		}
		if strings.Contains(out, canary) {
			t.Errorf("%v leaks the secret:\n%s", cmd, out)
		}
		if cmd[1] == "vars" && (!strings.Contains(out, "db_password: '********'") || !strings.Contains(out, "dsn: mysql://app:********@db")) {
			t.Errorf("vars output does not show the masked values:\n%s", out)
		}
	}
}

// TestInventoryListJSON: list --output json has the shape of
// ansible-inventory --list, and both seed formats give the same.
func TestInventoryListJSON(t *testing.T) {
	seedDir := filepath.Join("..", "..", "testdata", "inventory")
	var outs []map[string]any
	for _, seed := range []string{"seed.yml", "seed.ini"} {
		out, code, err := runInventoryCmd(t, "inventory", "list", "--output", "json", "-i", filepath.Join(seedDir, seed))
		if code != exitOK {
			t.Fatalf("%s: exit %d: %v", seed, code, err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%s: %v\n%s", seed, err, out)
		}
		outs = append(outs, m)
	}
	if !reflect.DeepEqual(outs[0], outs[1]) {
		t.Errorf("seed.yml and seed.ini differ:\n%v\n%v", outs[0], outs[1])
	}
	m := outs[0]
	web, _ := m["web"].(map[string]any)
	if hosts, _ := web["hosts"].([]any); len(hosts) != 2 || hosts[0] != "web-01" {
		t.Errorf("web: %v, want hosts web-01 and web-02", web)
	}
	all, _ := m["all"].(map[string]any)
	if children, _ := all["children"].([]any); len(children) == 0 {
		t.Errorf("all has no children: %v", all)
	}
	hv, _ := m["_meta"].(map[string]any)["hostvars"].(map[string]any)
	db, _ := hv["db-01"].(map[string]any)
	if db["ansible_host"] != "198.18.0.31" || db["ansible_port"] != 22.0 || db["ansible_user"] == nil {
		t.Errorf("db-01 hostvars %v: want ansible_host, ansible_port and ansible_user", db)
	}
}
