package inventory

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// corpusDir holds inventories written to be read alike by ferry and by
// ansible-inventory: one case per folder, its inventory file named
// inventory (any ending), with group_vars/ and host_vars/ beside it when the
// case needs them. Folders named broken-* hold inventories both must refuse.
const corpusDir = "../testdata/inventory-ansible"

// TestAgainstAnsibleInventory loads every case of the corpus with ferry and
// with `ansible-inventory --list` (ansible-core, Debian's package) and
// compares the hosts, every group's hosts (children's included), every
// host's variables with their types, and each host's address, port and
// user.
func TestAgainstAnsibleInventory(t *testing.T) {
	bin := ansibleInventory(t)
	// FERRY_ORACLE_CORPUS compares another folder of cases laid out the
	// same way: your own inventories, or generated ones.
	// There, a case Ansible refuses must be refused by ferry too.
	dir, custom := corpusDir, false
	if d := os.Getenv("FERRY_ORACLE_CORPUS"); d != "" {
		dir, custom = d, true
	}
	cases, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no corpus in %s: %v", dir, err)
	}
	paths := make([]string, len(cases))
	oraclePaths := make([]string, len(cases))
	for i, dir := range cases {
		paths[i] = corpusInventory(t, dir)
		oraclePaths[i] = oracleSource(t, paths[i])
	}
	results := runAnsibleInventory(t, bin, oraclePaths)
	for i, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			path := paths[i]
			want, aerr := results[i].list, results[i].err
			inv, ferr := Load(path)
			if strings.HasPrefix(filepath.Base(dir), "broken-") || (custom && aerr != nil) {
				if aerr == nil || ferr == nil {
					t.Fatalf("want both to refuse it; ansible-inventory: %v; ferry: %v", aerr, ferr)
				}
				// A script's or a JSON file's errors concern its output or
				// the whole document, not a line.
				var e *Error
				if !errors.As(ferr, &e) || !strings.HasPrefix(e.File, dir) || (e.Line == 0 && !strings.HasSuffix(path, ".sh") && !strings.HasSuffix(path, ".json")) {
					t.Errorf("ferry's error does not name a file of the case and a line: %v", ferr)
				}
				return
			}
			if aerr != nil {
				t.Fatalf("ansible-inventory: %v", aerr)
			}
			if ferr != nil {
				t.Fatalf("ferry: %v", ferr)
			}
			compareWithAnsible(t, inv, want)
			if !custom {
				checkRecorded(t, dir, results[i].raw, want)
			}
		})
	}
}

// recordedList is the file, in each case of the corpus, that holds
// ansible-inventory's output for it, so that TestAgainstRecordedAnsible
// compares ferry with Ansible where ansible-core is not installed.
const recordedList = "ansible-list.json"

// checkRecorded holds a case's recorded output to what ansible-inventory
// printed now; FERRY_UPDATE_ANSIBLE_LIST=1 rewrites it.
func checkRecorded(t *testing.T, dir string, raw []byte, live ansibleList) {
	t.Helper()
	path := filepath.Join(dir, recordedList)
	if os.Getenv("FERRY_UPDATE_ANSIBLE_LIST") != "" {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v: record it with FERRY_UPDATE_ANSIBLE_LIST=1 go test ./inventory -run TestAgainstAnsibleInventory", err)
		return
	}
	recorded, err := decodeList(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Run("recorded", func(t *testing.T) {
		compareLists(t, recorded, live)
		if t.Failed() {
			t.Errorf("%s is out of date: rewrite it with FERRY_UPDATE_ANSIBLE_LIST=1", path)
		}
	})
}

// TestAgainstRecordedAnsible compares ferry with the output of
// ansible-inventory --list recorded beside each case of the corpus (kept
// current by TestAgainstAnsibleInventory), so that the comparison also runs
// where ansible-core is not installed.
func TestAgainstRecordedAnsible(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(corpusDir, "*"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	for _, dir := range cases {
		if strings.HasPrefix(filepath.Base(dir), "broken-") {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, recordedList))
			if err != nil {
				t.Fatalf("%v: record it with FERRY_UPDATE_ANSIBLE_LIST=1 go test ./inventory -run TestAgainstAnsibleInventory", err)
			}
			want, err := decodeList(data)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := Load(corpusInventory(t, dir))
			if err != nil {
				t.Fatalf("ferry: %v", err)
			}
			compareWithAnsible(t, inv, want)
		})
	}
}

// compareWithAnsible compares ferry's inventory, both as its --output json
// and as resolved Go values, with Ansible's list.
func compareWithAnsible(t *testing.T, inv *Inventory, want ansibleList) {
	t.Helper()
	data, err := json.Marshal(inv.AnsibleList())
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeList(data)
	if err != nil {
		t.Fatal(err)
	}
	compareLists(t, got, want)
	for _, h := range inv.Hosts {
		vars := inv.VarsFor(h, nil, nil)
		if g, w := canon(vars), canon(want.vars[h.Name]); g != w {
			t.Errorf("host %s: variables\n got %s\nwant %s", h.Name, g, w)
		}
		c := want.conn[h.Name]
		port := cmp.Or(h.Conn.Port, 22) // 0: ssh_config's port, else 22
		if h.Address != c.address || port != c.port || h.Conn.User != c.user {
			t.Errorf("host %s: connection %s@%s:%d, want %s@%s:%d", h.Name, h.Conn.User, h.Address, port, c.user, c.address, c.port)
		}
	}
}

// ansibleInventory finds the oracle. Without it the test is skipped, and
// says why, except in CI, which must run it.
func ansibleInventory(t *testing.T) string {
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ansible-inventory is missing and CI=true: .ci/run installs Debian's ansible-core")
		}
		t.Skip("skipped: ansible-inventory is not installed (apt-get install ansible-core, or make ansible-oracle)")
	}
	return bin
}

// oracleSource is what ansible-inventory reads for path: path itself, but
// for JSON in the shape of ansible-inventory --list, which Ansible reads
// only from a script, a script beside a copy of it that prints it.
func oracleSource(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(path) != ".json" || !isListJSON(data) {
		return path
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "list.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "inventory.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = --list ] && exec cat \"$(dirname \"$0\")/list.json\"\necho '{}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

func corpusInventory(t *testing.T, dir string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, "inventory*"))
	if len(matches) != 1 {
		t.Fatalf("%s: want exactly one inventory* file, found %v", dir, matches)
	}
	return matches[0]
}

// ansibleList is what the comparison looks at.
type ansibleList struct {
	hosts  []string                  // sorted
	groups map[string][]string       // every group's hosts, children's included, sorted; empty groups left out
	vars   map[string]map[string]any // per host, connection variables left out
	conn   map[string]connValues
}

type connValues struct {
	address, user string
	port          int
}

type oracleResult struct {
	list ansibleList
	raw  []byte // what ansible-inventory printed
	err  error
}

// runAnsibleInventory runs `ansible-inventory -i PATH --list` for every
// path, through testdata/ansible_inventory_list.py: it imports Ansible once
// and runs ansible-inventory's own entry point for each path in a forked
// child, which takes a fraction of the time of one process per path. The
// helper runs under the interpreter named by ansible-inventory's #! line.
func runAnsibleInventory(t *testing.T, bin string, paths []string) []oracleResult {
	python := "python3"
	if head, err := os.ReadFile(bin); err == nil && bytes.HasPrefix(head, []byte("#!")) {
		if f := strings.Fields(string(head[2:bytes.IndexByte(head, '\n')])); len(f) == 1 {
			python = f[0]
		}
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		abs[i] = a
	}
	helper, err := filepath.Abs(filepath.Join("testdata", "ansible_inventory_list.py"))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(python, append([]string{helper}, abs...)...)
	// A folder of its own: no ansible.cfg, group_vars or collections of
	// the working directory or the user's home may take part.
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "ANSIBLE_HOME="+home, "ANSIBLE_LOCAL_TEMP="+home,
		"ANSIBLE_INVENTORY_UNPARSED_FAILED=true", "ANSIBLE_NOCOLOR=1", "ANSIBLE_CONFIG="+filepath.Join(home, "none.cfg"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", helper, err, stderr.String())
	}
	var raw map[string]struct {
		RC     int    `json:"rc"`
		Stdout string `json:"stdout"`
		Stderr string `json:"stderr"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("%s: %v", helper, err)
	}
	results := make([]oracleResult, len(paths))
	for i, a := range abs {
		r := raw[a]
		if r.RC != 0 {
			results[i].err = fmt.Errorf("exit %d: %s", r.RC, r.Stderr)
			continue
		}
		l, err := decodeList([]byte(r.Stdout))
		if err != nil {
			t.Fatalf("ansible-inventory output for %s: %v\n%s", paths[i], err, r.Stdout)
		}
		results[i].list, results[i].raw = l, []byte(r.Stdout)
	}
	return results
}

// decodeList reads --list JSON, keeping numbers as written so that 5 and
// 5.0 stay apart.
func decodeList(data []byte) (ansibleList, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return ansibleList{}, err
	}
	type group struct {
		Hosts    []string `json:"hosts"`
		Children []string `json:"children"`
	}
	groups := map[string]group{}
	for name, msg := range raw {
		if name == "_meta" {
			continue
		}
		var g group
		if err := json.Unmarshal(msg, &g); err != nil {
			return ansibleList{}, fmt.Errorf("group %s: %v", name, err)
		}
		groups[name] = g
	}
	var meta struct {
		Hostvars map[string]map[string]any `json:"hostvars"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw["_meta"]))
	dec.UseNumber()
	if err := dec.Decode(&meta); err != nil {
		return ansibleList{}, fmt.Errorf("_meta: %v", err)
	}
	l := ansibleList{groups: map[string][]string{}, vars: map[string]map[string]any{}, conn: map[string]connValues{}}
	var members func(name string, seen map[string]bool, out map[string]bool)
	members = func(name string, seen map[string]bool, out map[string]bool) {
		if seen[name] {
			return
		}
		seen[name] = true
		for _, h := range groups[name].Hosts {
			out[h] = true
		}
		for _, c := range groups[name].Children {
			members(c, seen, out)
		}
	}
	all := map[string]bool{}
	for name := range groups {
		set := map[string]bool{}
		members(name, map[string]bool{}, set)
		if len(set) > 0 && name != "all" {
			l.groups[name] = slices.Sorted(maps.Keys(set))
		}
		for h := range set {
			all[h] = true
		}
	}
	l.hosts = slices.Sorted(maps.Keys(all))
	for _, h := range l.hosts {
		hv := meta.Hostvars[h]
		vars := map[string]any{}
		for k, v := range hv {
			if _, isConn := ansibleConnVars[k]; !isConn {
				vars[k] = v
			}
		}
		l.vars[h] = vars
		c := connValues{address: h, port: 22}
		if v, ok := firstVar(hv, "ansible_ssh_host", "ansible_host"); ok {
			c.address = fmt.Sprint(v)
		}
		if v, ok := firstVar(hv, "ansible_ssh_port", "ansible_port"); ok {
			c.port, _ = strconv.Atoi(fmt.Sprint(v))
		}
		if v, ok := firstVar(hv, "ansible_ssh_user", "ansible_user"); ok {
			c.user = fmt.Sprint(v)
		}
		l.conn[h] = c
	}
	return l, nil
}

// firstVar is the first of names set to something other than null:
// Ansible's connection options skip null values.
func firstVar(m map[string]any, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := m[n]; ok && v != nil {
			return v, true
		}
	}
	return nil, false
}

func compareLists(t *testing.T, got, want ansibleList) {
	t.Helper()
	if g, w := strings.Join(got.hosts, " "), strings.Join(want.hosts, " "); g != w {
		t.Errorf("hosts\n got %s\nwant %s", g, w)
	}
	names := map[string]bool{}
	for n := range got.groups {
		names[n] = true
	}
	for n := range want.groups {
		names[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if g, w := strings.Join(got.groups[n], " "), strings.Join(want.groups[n], " "); g != w {
			t.Errorf("group %s: hosts\n got [%s]\nwant [%s]", n, g, w)
		}
	}
	for _, h := range want.hosts {
		if g, w := canon(got.vars[h]), canon(want.vars[h]); g != w {
			t.Errorf("host %s (JSON): variables\n got %s\nwant %s", h, g, w)
		}
		if got.conn[h] != want.conn[h] {
			t.Errorf("host %s (JSON): connection %+v, want %+v", h, got.conn[h], want.conn[h])
		}
	}
}

// canon writes a value with its type, maps sorted: int:5 and float:5 differ.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool:" + strconv.FormatBool(x)
	case int:
		return "int:" + strconv.Itoa(x)
	case float64:
		return "float:" + strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			f, _ := x.Float64()
			return "float:" + strconv.FormatFloat(f, 'g', -1, 64)
		}
		return "int:" + x.String()
	case string:
		return "str:" + strconv.Quote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canon(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ": " + canon(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("%T:%v", v, v)
}
