package inventory

import (
	"fmt"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// ansibleGroupKeys are the only keys a group has in Ansible's YAML
// inventory.
var ansibleGroupKeys = []string{"hosts", "children", "vars"}

// isAnsibleYAML tells Ansible's YAML inventory from ferry's by its shape:
// Ansible's top level names groups (usually just all:), each null or a
// mapping of hosts:, children: and vars:; ferry's has groups: and its other
// top-level keys.
func isAnsibleYAML(root *yaml.Node) bool {
	if root == nil || root.Kind != yaml.MappingNode || len(root.Content) == 0 {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), deref(root.Content[i+1])
		if k.Value == "groups" || k.Value == "order" || k.Value == "secrets" || k.Value == "connection" {
			return false
		}
		if isNull(v) {
			continue
		}
		if v.Kind != yaml.MappingNode {
			return false
		}
		for j := 0; j < len(v.Content); j += 2 {
			if !slices.Contains(ansibleGroupKeys, deref(v.Content[j]).Value) {
				return false
			}
		}
	}
	return true
}

// parseAnsibleYAML reads Ansible's YAML inventory format into b, as
// ansible-core's yaml plugin does:
//
//	all:
//	  vars: {ntp_server: ntp.example.com}
//	  children:
//	    web:
//	      hosts:
//	        web[01:03]:          # ranges and host:port as in INI
//	          http_port: 8080
//	      vars: {site_name: www.example.com}
//
// Values are typed by YAML 1.1, as Ansible's PyYAML types them. Where
// Ansible only warns (a key other than hosts, children and vars; a group
// that is not a mapping), ferry refuses, naming the line.
func parseAnsibleYAML(b *builder, y yamlFile, root *yaml.Node) {
	b.ansible = true
	b.addressFromName = true
	y.yaml11 = true
	y.mapping(root, "at the top level", nil, func(name string, k, v *yaml.Node) {
		y.ansibleGroup(b, name, k, v)
	})
	b.takeSecretsVar()
	b.fixUngrouped()
}

func (y yamlFile) ansibleGroup(b *builder, name string, k, v *yaml.Node) *groupDecl {
	if !b.checkName("group", name, y.file, k.Line) {
		return nil
	}
	v = deref(v)
	if !isNull(v) && v.Kind != yaml.MappingNode {
		y.p.add(y.file, v.Line, "group %q: expected a mapping of hosts:, children: and vars:, found %s", name, kindName(v))
		return nil
	}
	fresh := b.groups[name] == nil
	gd := b.group(name, y.file, k.Line)
	if fresh || name == "all" {
		gd.g.Line = k.Line
	}
	what := fmt.Sprintf("in group %q", name)
	y.mapping(v, what, ansibleGroupKeys, func(key string, k, v *yaml.Node) {
		v = deref(v)
		if isNull(v) {
			return
		}
		if v.Kind == yaml.ScalarNode { // "hosts: web01" is {web01: null}
			v = &yaml.Node{Kind: yaml.MappingNode, Line: v.Line, Content: []*yaml.Node{v, {Kind: yaml.ScalarNode, Tag: "!!null", Line: v.Line}}}
		}
		switch key {
		case "vars":
			b.setVars(gd.scope(true), y.vars(v, "in vars of group "+strconv.Quote(name)))
		case "children":
			y.mapping(v, "in children of group "+strconv.Quote(name), nil, func(child string, ck, cv *yaml.Node) {
				if y.ansibleGroup(b, child, ck, cv) != nil && !containsRef(gd.children, child) {
					gd.children = append(gd.children, ref{name: child, file: y.file, line: ck.Line})
				}
			})
		case "hosts":
			y.mapping(v, "in hosts of group "+strconv.Quote(name), nil, func(pattern string, hk, hv *yaml.Node) {
				y.ansibleHosts(b, gd, pattern, hk, hv)
			})
		}
	})
	return gd
}

func (y yamlFile) ansibleHosts(b *builder, gd *groupDecl, pattern string, k, v *yaml.Node) {
	if k.Tag == "!!int" || k.Tag == "!!float" {
		y.p.add(y.file, k.Line, "host pattern %s must be a string: enclose integers and floats in quotes", pattern)
		return
	}
	names, port, err := expandHostPattern(pattern)
	if err != nil {
		y.p.add(y.file, k.Line, "%v", err)
		return
	}
	vars := y.vars(v, "in vars of host "+strconv.Quote(pattern))
	at := ref{file: y.file, line: k.Line}
	for _, name := range names {
		if !b.checkName("host", name, y.file, k.Line) {
			return
		}
		_, known := b.hosts[name]
		hd := b.addHost(gd, name, at)
		if port > 0 && !known {
			b.setVars(hd.scope(true), []varEntry{{key: "ansible_port", value: port, at: at}})
		}
		b.setVars(hd.scope(true), vars)
	}
}
