package lab

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVMMAC(t *testing.T) {
	got, err := vmMAC("198.18.1.21")
	if err != nil || got != "52:54:00:12:01:15" {
		t.Fatalf("vmMAC(198.18.1.21) = %q, %v", got, err)
	}
	other, _ := vmMAC("198.18.1.11")
	if other == got {
		t.Fatal("two addresses, one MAC: DHCP could not tell the VMs apart")
	}
	if _, err := vmMAC("fe80::1"); err == nil {
		t.Fatal("IPv6 accepted")
	}
}

// TestVMNetworkXML parses the network definition as libvirt would: isolated
// (no forward element, so no NAT), the lab's bridge and gateway, and one
// fixed lease per host matching its MAC.
func TestVMNetworkXML(t *testing.T) {
	s := Spec{Hosts: []HostSpec{{Name: "web-01", Address: "198.18.1.21"}, {Name: "lb-01", Address: "198.18.1.11"}}}
	doc, err := s.vmNetworkXML()
	if err != nil {
		t.Fatal(err)
	}
	var n struct {
		Name    string `xml:"name"`
		Forward *struct{}
		Bridge  struct {
			Name string `xml:"name,attr"`
		} `xml:"bridge"`
		IP struct {
			Address string `xml:"address,attr"`
			Prefix  int    `xml:"prefix,attr"`
			Hosts   []struct {
				MAC  string `xml:"mac,attr"`
				Name string `xml:"name,attr"`
				IP   string `xml:"ip,attr"`
			} `xml:"dhcp>host"`
		} `xml:"ip"`
	}
	if err := xml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if n.Name != VMNetworkName || n.Bridge.Name != VMBridgeName || n.Forward != nil {
		t.Errorf("network %q bridge %q forward %v:\n%s", n.Name, n.Bridge.Name, n.Forward, doc)
	}
	if n.IP.Address != VMGateway.String() || n.IP.Prefix != 24 {
		t.Errorf("gateway %s/%d", n.IP.Address, n.IP.Prefix)
	}
	if len(n.IP.Hosts) != 2 {
		t.Fatalf("leases: %+v", n.IP.Hosts)
	}
	for i, h := range s.Hosts {
		mac, _ := vmMAC(h.Address)
		if got := n.IP.Hosts[i]; got.Name != h.Name || got.IP != h.Address || got.MAC != mac {
			t.Errorf("lease %d: %+v, want %s %s %s", i, got, h.Name, h.Address, mac)
		}
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{"198.18.1.0/24": "198.18.1.255", "198.18.0.0/15": "198.19.255.255", "10.1.2.3/32": "10.1.2.3"} {
		if got := lastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("lastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestSelectHosts(t *testing.T) {
	s := Spec{Hosts: []HostSpec{{Name: "web-01", Address: "198.18.1.21"}, {Name: "lb-01", Address: "198.18.1.11"}}}
	all, err := s.selectHosts(nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("all hosts: %v, %v", all, err)
	}
	one, err := s.selectHosts([]string{"lb-01"})
	if err != nil || len(one) != 1 || one[0].Name != "lb-01" {
		t.Fatalf("--hosts lb-01: %v, %v", one, err)
	}
	if _, err := s.selectHosts([]string{"db-01"}); err == nil || !strings.Contains(err.Error(), `no host "db-01"`) {
		t.Fatalf("unknown host: %v", err)
	}
}

// TestVagrantSpecNetwork: the Vagrant lab takes VM addresses and refuses
// the nspawn lab's, and the nspawn lab refuses a VM network.
func TestVagrantSpecNetwork(t *testing.T) {
	vm := Spec{StateDir: t.TempDir(), Hosts: []HostSpec{{Name: "web-01", Address: "198.18.1.21"}}}
	if _, err := vagrantDefaults(vm); err != nil {
		t.Fatalf("VM address refused: %v", err)
	}
	nspawnAddr := Spec{StateDir: t.TempDir(), Hosts: []HostSpec{{Name: "web-01", Address: "198.18.0.21"}}}
	if _, err := vagrantDefaults(nspawnAddr); err == nil || !strings.Contains(err.Error(), "198.18.1.0/24") {
		t.Fatalf("nspawn address on the VM network: %v", err)
	}
	vm.Network = VMNetwork
	if err := Up(context.Background(), vm); err == nil || !strings.Contains(err.Error(), "--provider vagrant") {
		t.Fatalf("nspawn up with the VM network: %v", err)
	}
}

func TestDetectAccelOverride(t *testing.T) {
	t.Setenv("FERRY_LAB_ACCEL", "qemu")
	if accel, why := DetectAccel(context.Background(), "/nonexistent"); accel != "qemu" || !strings.Contains(why, "FERRY_LAB_ACCEL") {
		t.Fatalf("DetectAccel = %s (%s)", accel, why)
	}
}

func TestProgressFilter(t *testing.T) {
	var out bytes.Buffer
	f := &progressFilter{w: &out}
	in := "==> web-01: Uploading base box image as volume into Libvirt storage...\n" +
		"\x1b[KProgress: 0%\r\x1b[KProgress: 1%\r\x1b[KProgress: 100%\r\x1b[K==> web-01: Creating image\n" +
		"    web-01: SSH address: 198.18.1.21:22\n" + "tail without newline"
	for i := 0; i < len(in); i += 7 { // arbitrary chunks, as a pipe delivers
		end := min(i+7, len(in))
		if _, err := f.Write([]byte(in[i:end])); err != nil {
			t.Fatal(err)
		}
	}
	f.flush()
	want := "==> web-01: Uploading base box image as volume into Libvirt storage...\n" +
		"==> web-01: Creating image\n" + "    web-01: SSH address: 198.18.1.21:22\n" + "tail without newline\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

func TestBoxRecipe(t *testing.T) {
	a, b := boxRecipe([]byte("key one")), boxRecipe([]byte("key two"))
	if a == b || len(a) != 16 {
		t.Fatalf("recipes %q and %q: want distinct 16-hex names", a, b)
	}
	if boxRecipe([]byte("key one")) != a {
		t.Fatal("the same inputs gave another recipe: the cache would never hit")
	}
	box := boxFor("/c", a)
	if box.Name != "ferry/bookworm-"+a || box.Path != "/c/ferry-bookworm-"+a+".box" || box.Kernel != "/c/ferry-bookworm-"+a+".vmlinuz" {
		t.Errorf("box %+v", box)
	}
}

func TestDirectSources(t *testing.T) {
	srcs, err := parseDeb822([]byte("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates trixie\nComponents: main\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(directSources(srcs))
	want := "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if m := directMirror(srcs, "/deb.debian.org/debian"); m != "http://deb.debian.org/debian" {
		t.Errorf("directMirror = %q", m)
	}
}

func TestRemoveOtherBoxes(t *testing.T) {
	dir := t.TempDir()
	keep := boxFor(dir, "aaaa")
	old := boxFor(dir, "bbbb")
	other := filepath.Join(dir, "apt")
	for _, p := range []string{keep.Path, keep.Kernel, old.Path, old.Kernel, other} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removeOtherBoxes(dir, keep)
	for p, want := range map[string]bool{keep.Path: true, keep.Kernel: true, old.Path: false, old.Kernel: false, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", p, err == nil, want)
		}
	}
}
