package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// ScriptTimeout bounds a dynamic inventory script: its --list run, and all
// its --host runs together. A script still running then is killed with
// everything it started.
var ScriptTimeout = 30 * time.Second

// isScript tells an executable inventory (a program, run with --list) from
// an inventory file that merely has its x bit set: it must start with "#!"
// or be an ELF binary.
func isScript(path string, data []byte) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return false
	}
	return bytes.HasPrefix(data, []byte("#!")) || bytes.HasPrefix(data, []byte("\x7fELF"))
}

// loadScript runs the dynamic inventory script b.file as Ansible's script
// plugin does: `SCRIPT --list` prints the groups as JSON; host variables
// come from its "_meta": {"hostvars": ...} or, when that is absent, from
// `SCRIPT --host NAME` for each host.
func loadScript(b *builder) {
	ctx, cancel := context.WithTimeout(context.Background(), ScriptTimeout)
	defer cancel()
	out, err := runScript(ctx, b.file, "--list")
	if err != nil {
		b.add(b.file, 0, "%v", err)
		return
	}
	parseListJSON(b, out, "inventory script", func(host string) (map[string]any, error) {
		out, err := runScript(ctx, b.file, "--host", host)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		// Ansible (2.14) too refuses empty output here, whatever it means.
		if err := decodeJSON(out, &m); err != nil || m == nil {
			if err == nil {
				err = errors.New(`want a JSON object ("{}" for no variables)`)
			}
			return nil, fmt.Errorf("inventory script (run with --host %s) printed invalid JSON: %v", host, err)
		}
		return m, nil
	})
}

// runScript runs path with args; a failure names the script, its exit
// status and the end of what it wrote to stderr.
func runScript(ctx context.Context, path string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	// Its own process group, so that the time limit also stops whatever
	// the script started (a shell's children keep stdout open otherwise).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	what := "inventory script " + strings.Join(append([]string{"(run with"}, args...), " ") + ")"
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s was stopped after the %s time limit", what, ScriptTimeout)
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = "..." + msg[len(msg)-500:]
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("%s failed with exit status %d: %s", what, ee.ExitCode(), msg)
		}
		return nil, fmt.Errorf("%s could not run: %v", what, err)
	}
	return out, nil
}

// decodeJSON decodes one JSON value, numbers typed as Python types them.
func decodeJSON(data []byte, v *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return fmt.Errorf("line %d of its output: %v", line, err)
		}
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	for k, x := range *v {
		(*v)[k] = fromJSON(x)
	}
	return nil
}

// isListJSON tells the shape of ansible-inventory --list (and of script
// output: "_meta", or groups with lists of hosts or children) from
// Ansible's YAML inventory written as JSON.
func isListJSON(data []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	if _, ok := m["_meta"]; ok {
		return true
	}
	for _, raw := range m {
		var g map[string]json.RawMessage
		if json.Unmarshal(raw, &g) != nil {
			return true // a bare list of hosts
		}
		for _, k := range []string{"hosts", "children"} {
			if r := bytes.TrimSpace(g[k]); len(r) > 0 && r[0] == '[' {
				return true
			}
		}
	}
	return false
}

// parseListJSON reads groups in the shape `ansible-inventory --list` and
// dynamic scripts print: each group a list of hosts or a mapping with
// hosts (a list), vars and children (a list), and _meta.hostvars. Host
// names are taken as they are (no ranges or ports), as Ansible does.
// hostVars, when _meta has no hostvars, gives one host's variables.
func parseListJSON(b *builder, data []byte, what string, hostVars func(string) (map[string]any, error)) {
	b.ansible = true
	b.addressFromName = true
	at := ref{file: b.file}
	var top map[string]any
	if err := decodeJSON(data, &top); err != nil {
		b.add(b.file, 0, "%s printed invalid JSON: %v", what, err)
		return
	}
	var meta map[string]any
	if m, ok := top["_meta"].(map[string]any); ok {
		if hv, ok := m["hostvars"]; ok {
			if meta, ok = hv.(map[string]any); !ok {
				b.add(b.file, 0, "%s: _meta.hostvars must be a mapping of hosts to their variables", what)
				return
			}
		}
	}
	names := make([]string, 0, len(top))
	for name := range top {
		if name != "_meta" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var hostOrder []string
	seen := map[string]bool{}
	for _, name := range names {
		if !b.checkName("group", name, b.file, 0) {
			continue
		}
		gd := b.group(name, b.file, 0)
		data, isMap := top[name].(map[string]any)
		if !isMap {
			data = map[string]any{"hosts": top[name]}
		} else if _, h := data["hosts"]; !h {
			if _, v := data["vars"]; !v {
				if _, c := data["children"]; !c {
					// Ansible's old shorthand: a group of one host named like it.
					data = map[string]any{"hosts": []any{name}, "vars": data}
				}
			}
		}
		if hs, ok := data["hosts"]; ok {
			list, ok := hs.([]any)
			if !ok {
				b.add(b.file, 0, "%s: group %q: hosts must be a list", what, name)
				continue
			}
			for _, h := range list {
				host, ok := h.(string)
				if !ok || !b.checkName("host", host, b.file, 0) {
					b.add(b.file, 0, "%s: group %q: host %v is not a name", what, name, h)
					continue
				}
				b.addHost(gd, host, at)
				if !seen[host] {
					seen[host] = true
					hostOrder = append(hostOrder, host)
				}
			}
		}
		if vs, ok := data["vars"]; ok {
			vars, ok := vs.(map[string]any)
			if !ok {
				b.add(b.file, 0, "%s: group %q: vars must be a mapping", what, name)
				continue
			}
			b.setVars(gd.scope(true), sortedEntries(vars, at))
		}
		if cs, ok := data["children"]; ok {
			list, ok := cs.([]any)
			if !ok {
				b.add(b.file, 0, "%s: group %q: children must be a list", what, name)
				continue
			}
			for _, c := range list {
				child, ok := c.(string)
				if !ok || !b.checkName("group", child, b.file, 0) {
					continue
				}
				b.group(child, b.file, 0)
				if !containsRef(gd.children, child) {
					gd.children = append(gd.children, ref{name: child, file: b.file})
				}
			}
		}
	}
	for _, host := range hostOrder {
		var vars map[string]any
		if meta != nil {
			v, ok := meta[host]
			if ok && v != nil {
				if vars, ok = v.(map[string]any); !ok {
					b.add(b.file, 0, "%s: _meta.hostvars of %q must be a mapping", what, host)
					continue
				}
			}
		} else if hostVars != nil {
			var err error
			if vars, err = hostVars(host); err != nil {
				b.add(b.file, 0, "%v", err)
				return
			}
		}
		b.setVars(b.hosts[host].scope(true), sortedEntries(vars, at))
	}
	b.takeSecretsVar()
	b.fixUngrouped()
}

func sortedEntries(vars map[string]any, at ref) []varEntry {
	keys := slices.Sorted(maps.Keys(vars))
	out := make([]varEntry, len(keys))
	for i, k := range keys {
		out[i] = varEntry{key: k, value: vars[k], at: at}
	}
	return out
}
