package inventory

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Keys of ferry's YAML inventory, by place. Anything else is an error with
// the closest of these suggested.
var (
	topKeys   = []string{"connection", "vars", "secrets", "order", "groups"}
	groupKeys = []string{"roles", "vars", "children", "serial", "max_fail_percentage", "drain", "connection", "hosts"}
	drainKeys = []string{"through", "backend", "socket", "health_url", "timeout", "command"}
	hostKeys  = []string{"address", "port", "user", "vars", "connection"}
	connKeys  = []string{"user", "port", "private_key", "known_hosts", "proxy_jump", "become", "become_password", "become_user", "timeout"}
)

// parseYAML reads ferry's YAML inventory format into b (see doc.go).
func parseYAML(b *builder, y yamlFile, root *yaml.Node) {
	if root == nil {
		b.add(b.file, 0, "the inventory is empty")
		return
	}
	all := b.groups["all"]
	y.mapping(root, "at the top level", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "connection":
			y.conn(&all.conn, v, "")
		case "vars":
			b.setVars(all.scope(true), y.vars(v, "in vars"))
		case "secrets":
			if s, ok := y.scalar(v, "secrets"); ok {
				b.secrets = ref{name: s, file: b.file, line: v.Line}
			}
		case "order":
			b.order = y.names(v, "order")
		case "groups":
			y.mapping(v, "in groups", nil, func(name string, k, v *yaml.Node) {
				y.group(b, name, k, v)
			})
		}
	})
}

func (y yamlFile) group(b *builder, name string, k, v *yaml.Node) {
	if !b.checkName("group", name, y.file, k.Line) {
		return
	}
	gd := b.group(name, y.file, k.Line)
	gd.g.Line = k.Line // "all" exists before it is written
	what := fmt.Sprintf("in group %q", name)
	y.mapping(v, what, groupKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "roles":
			for _, r := range y.names(v, "roles "+what) {
				gd.g.Roles = append(gd.g.Roles, r.name)
			}
		case "vars":
			b.setVars(gd.scope(true), y.vars(v, "in vars of group "+strconv.Quote(name)))
		case "children":
			gd.children = y.names(v, "children "+what)
		case "serial":
			if serial, ok := y.serial(v); ok {
				gd.g.Serial = serial
			}
		case "max_fail_percentage":
			if n, ok := y.maxFailPercentage(v); ok {
				gd.g.MaxFailPercentage = n
			}
		case "drain":
			gd.g.Drain = y.drain(v, name)
		case "connection":
			y.conn(&gd.conn, v, " of group "+strconv.Quote(name))
		case "hosts":
			y.mapping(v, "in hosts of group "+strconv.Quote(name), nil, func(host string, k, v *yaml.Node) {
				y.host(b, gd, host, k, v)
			})
		}
	})
}

func (y yamlFile) host(b *builder, gd *groupDecl, name string, k, v *yaml.Node) {
	if !b.checkName("host", name, y.file, k.Line) {
		return
	}
	hd := b.addHost(gd, name, ref{file: y.file, line: k.Line})
	what := fmt.Sprintf("in host %q", name)
	y.mapping(v, what, hostKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "address":
			if s, ok := y.scalar(v, "address"); ok {
				b.setAddress(hd, s, ref{file: y.file, line: v.Line})
			}
		case "port", "user":
			if s, ok := y.scalar(v, key); ok {
				if err := setConn(&hd.conn, key, s, ref{}); err != nil {
					y.p.add(y.file, v.Line, "host %q: %s: %v", name, key, err)
				}
			}
		case "vars":
			b.setVars(hd.scope(true), y.vars(v, "in vars of host "+strconv.Quote(name)))
		case "connection":
			y.conn(&hd.conn, v, " of host "+strconv.Quote(name))
		}
	})
}

// conn reads a `connection:` mapping into p.
func (y yamlFile) conn(p *connPatch, n *yaml.Node, of string) {
	y.mapping(n, "in connection"+of, connKeys, func(key string, k, v *yaml.Node) {
		s, ok := y.scalar(v, key)
		if !ok {
			return
		}
		at := ref{file: y.file, line: v.Line}
		if err := setConn(p, key, s, at); err != nil {
			y.p.add(y.file, v.Line, "%s: %v", key, err)
		}
	})
}

// parsePercent accepts 0..100.
func parsePercent(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 100 {
		return 0, fmt.Errorf("%q is not a percentage 0-100", s)
	}
	return n, nil
}

// serial reads a group's or a play's serial:, reporting a bad value (which
// is still set, as the zero Serial ParseSerial returns); ok is false when
// the value is not a scalar.
func (y yamlFile) serial(v *yaml.Node) (Serial, bool) {
	s, ok := y.scalar(v, "serial")
	if !ok {
		return Serial{}, false
	}
	serial, err := ParseSerial(s)
	if err != nil {
		y.p.add(y.file, v.Line, "%v", err)
	}
	return serial, true
}

// maxFailPercentage reads a group's or a play's max_fail_percentage:, as
// serial reads serial:.
func (y yamlFile) maxFailPercentage(v *yaml.Node) (int, bool) {
	s, ok := y.scalar(v, "max_fail_percentage")
	if !ok {
		return 0, false
	}
	n, err := parsePercent(s)
	if err != nil {
		y.p.add(y.file, v.Line, "max_fail_percentage: %v", err)
	}
	return n, true
}

// drain reads a group's drain: settings, with defaults for what is left out.
func (y yamlFile) drain(n *yaml.Node, group string) *Drain {
	d := &Drain{Socket: "/run/haproxy/admin.sock", HealthURL: "http://%s/health", Timeout: 30 * time.Second, File: y.file, Line: n.Line}
	what := fmt.Sprintf("in drain of group %q", group)
	// Every setting but timeout is taken as it is written.
	text := map[string]*string{
		"through": &d.Through, "backend": &d.Backend, "command": &d.Command,
		"socket": &d.Socket, "health_url": &d.HealthURL,
	}
	y.mapping(n, what, drainKeys, func(key string, k, v *yaml.Node) {
		s, ok := y.scalar(v, key)
		if !ok {
			return
		}
		if field, ok := text[key]; ok {
			*field = s
			return
		}
		if key == "timeout" {
			t, err := time.ParseDuration(s)
			if err != nil || t <= 0 {
				y.p.add(y.file, v.Line, "drain timeout %q: want a duration such as 30s", s)
				return
			}
			d.Timeout = t
		}
	})
	switch {
	case d.Command != "" && (d.Through != "" || d.Backend != ""):
		y.p.add(y.file, n.Line, "drain of group %q: command (the hosts drain themselves) excludes through and backend", group)
	case d.Command == "" && (d.Through == "" || d.Backend == ""):
		y.p.add(y.file, n.Line, "drain of group %q needs through (the load balancers' group) and backend, or command", group)
	}
	return d
}
