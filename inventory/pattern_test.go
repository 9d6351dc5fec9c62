package inventory

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	inv, err := loadTree(t, "inv.yml", map[string]string{"inv.yml": `
groups:
  frontend: {children: [web, lb]}
  db:
    hosts:
      db-01: {address: 198.18.0.31}
      db-02: {address: 198.18.0.32}
  web:
    hosts:
      web-01: {address: 198.18.0.21}
      web-02: {address: 198.18.0.22}
  lb:
    hosts:
      lb-01: {address: 198.18.0.11}
  staging:
    hosts:
      web-02: {}
      db-02: {}
`})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pattern string
		want    string // host names in order, or "error: substring"
	}{
		{"all", "db-01 db-02 web-01 web-02 lb-01"},
		{"*", "db-01 db-02 web-01 web-02 lb-01"},
		{"web-01", "web-01"},
		{"web", "web-01 web-02"},
		{"frontend", "web-01 web-02 lb-01"},
		{"lb,db-01", "db-01 lb-01"}, // inventory order, not pattern order
		{"lb:db-01", "db-01 lb-01"},
		{"web-*", "web-01 web-02"},
		{"*-02", "db-02 web-02"},
		{"db-0[2-9]", "db-02"},
		{"fro*", "web-01 web-02 lb-01"}, // globs match group names too
		{"frontend,!web-01", "web-02 lb-01"},
		{"!web-01,frontend", "web-02 lb-01"},
		{"!frontend", "db-01 db-02"}, // only exclusions: from all hosts
		{"all:&staging", "db-02 web-02"},
		{"web:&staging:!db", "web-02"},
		{"web,&db", ""},
		{" web , lb ", "web-01 web-02 lb-01"},
		{"", "error: empty element"},
		{"web,", "error: empty element"},
		{"web,,lb", "error: empty element"},
		{"!", "error: empty element"},
		{"web,&", "error: empty element"},
		{"wbe", `error: no host or group "wbe"; did you mean "web"?`},
		{"web,!nosuch", `error: no host or group "nosuch"`},
		{"web-[", "error: bad glob"},
		{"mail-*", `error: "mail-*" matches no host or group`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			hosts, err := inv.Select(tt.pattern)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Select(%q) error = %v, want one containing %q", tt.pattern, err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range hosts {
				names = append(names, h.Name)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("Select(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	inv, err := Load(filepath.Join(testdataDir, "seed.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Host("web-02") == nil || inv.Host("web-02").Address != "198.18.0.22" || inv.Host("nope") != nil {
		t.Errorf("Host lookup wrong")
	}
	if got := len(inv.HostsOf("all")); got != 6 {
		t.Errorf("HostsOf(all) has %d hosts", got)
	}
	if inv.HostsOf("nope") != nil {
		t.Errorf("HostsOf(unknown) should be nil")
	}
	if got := inv.HostsOf("lb"); len(got) != 2 || got[0].Name != "lb-01" || got[1].Name != "lb-02" {
		t.Errorf("HostsOf(lb) = %v", got)
	}
}

// TestSelectIPv6: as in Ansible, an element that is an address with colons
// is not split at them.
func TestSelectIPv6(t *testing.T) {
	inv, err := loadTree(t, "hosts", map[string]string{"hosts": "[v6]\nfe80::1\n[2001:db8::3]:2222\n[v4]\n192.0.2.1\n"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ pattern, want string }{
		{"fe80::1", "fe80::1"},
		{"2001:db8::3", "2001:db8::3"},
		{"v6,!fe80::1", "2001:db8::3"},
		{"v4:fe80::1", "error: host pattern \"v4:fe80::1\": empty element"}, // not one address: split at every colon
		{"v4,fe80::1", "fe80::1 192.0.2.1"},
	}
	for _, tt := range tests {
		hosts, err := inv.Select(tt.pattern)
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			names := make([]string, len(hosts))
			for i, h := range hosts {
				names[i] = h.Name
			}
			got = strings.Join(names, " ")
		}
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("Select(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}
