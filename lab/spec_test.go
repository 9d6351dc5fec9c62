package lab

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := HostSpec{Name: "web-01", Address: "198.18.0.21"}
	tests := []struct {
		name    string
		hosts   []HostSpec
		network netip.Prefix
		wantErr string
	}{
		{"good", []HostSpec{ok, {Name: "db-01", Address: "198.18.0.31"}}, netip.Prefix{}, ""},
		{"empty", nil, netip.Prefix{}, "no hosts"},
		{"private range", []HostSpec{{Name: "a", Address: "192.168.1.5"}}, netip.Prefix{}, "must be a host address in 198.18.0.0/24"},
		{"public", []HostSpec{{Name: "a", Address: "8.8.8.8"}}, netip.Prefix{}, "must be a host address"},
		{"bridge address", []HostSpec{{Name: "a", Address: "198.18.0.1"}}, netip.Prefix{}, "other than the controller's 198.18.0.1"},
		{"broadcast", []HostSpec{{Name: "a", Address: "198.18.0.255"}}, netip.Prefix{}, "must be a host address"},
		{"not an address", []HostSpec{{Name: "a", Address: "web"}}, netip.Prefix{}, `address "web"`},
		{"duplicate name", []HostSpec{ok, ok}, netip.Prefix{}, "declared twice"},
		{"duplicate address", []HostSpec{ok, {Name: "web-02", Address: "198.18.0.21"}}, netip.Prefix{}, "already used by web-01"},
		{"bad name", []HostSpec{{Name: "Web_01", Address: "198.18.0.21"}}, netip.Prefix{}, "lowercase"},
		{"path in name", []HostSpec{{Name: "../x", Address: "198.18.0.21"}}, netip.Prefix{}, "lowercase"},
		{"vm network", []HostSpec{{Name: "web-01", Address: "198.18.1.21"}}, VMNetwork, ""},
		{"nspawn address on the vm network", []HostSpec{ok}, VMNetwork, "must be a host address in 198.18.1.0/24"},
		{"vm gateway", []HostSpec{{Name: "a", Address: "198.18.1.1"}}, VMNetwork, "other than the controller's 198.18.1.1"},
		{"vm broadcast", []HostSpec{{Name: "a", Address: "198.18.1.255"}}, VMNetwork, "must be a host address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Spec{Hosts: tt.hosts, StateDir: "/x", Network: tt.network}.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestVethName(t *testing.T) {
	if got := vethName("web-01"); got != "vf-web-01" {
		t.Errorf("vethName(web-01) = %q", got)
	}
	long1, long2 := vethName("a-very-long-host-name-1"), vethName("a-very-long-host-name-2")
	if len(long1) > 15 || len(long2) > 15 || long1 == long2 {
		t.Errorf("long names: %q, %q: want distinct names of at most 15 bytes", long1, long2)
	}
	if !strings.HasPrefix(long1, "vf-") {
		t.Errorf("%q: down finds veths by the vf- prefix", long1)
	}
}

func TestWithDefaults(t *testing.T) {
	if _, err := (Spec{}).withDefaults(); err == nil {
		t.Fatal("empty state dir accepted")
	}
	s, err := Spec{StateDir: "rel/.lab"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(s.KeyFile, "/rel/.lab/id_ed25519") || s.KeyFile[0] != '/' {
		t.Errorf("key file %q: want an absolute path in the state dir", s.KeyFile)
	}
	if s.BaseDir != DefaultBaseDir || s.CacheDir != DefaultCacheDir || s.Log == nil {
		t.Errorf("defaults not applied: %+v", s)
	}
}
