package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/lab"
)

// TestLabInventoryLoads reads the committed lab inventory through the real
// loader, as `ferry lab` does (without the secrets file, which lab up
// writes): its hosts in 198.18.0.0/24 and state in the repo's .lab folder.
func TestLabInventoryLoads(t *testing.T) {
	path := filepath.Join("..", "..", "lab", "inventory.yml")
	inv, err := inventory.LoadTopology(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := specFromInventory(inv, lab.Network)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"db-01": "198.18.0.31", "db-02": "198.18.0.32", "web-01": "198.18.0.21",
		"web-02": "198.18.0.22", "lb-01": "198.18.0.11", "lb-02": "198.18.0.12",
		"monitor-01": "198.18.0.41",
	}
	if len(spec.Hosts) != len(want) {
		t.Fatalf("got %d hosts: %+v", len(spec.Hosts), spec.Hosts)
	}
	for _, h := range spec.Hosts {
		if want[h.Name] != h.Address {
			t.Errorf("host %s at %s, want %s", h.Name, h.Address, want[h.Name])
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if wantState := filepath.Join(root, ".lab"); spec.StateDir != wantState {
		t.Errorf("state dir %s, want %s (the git-ignored .lab at the repo root)", spec.StateDir, wantState)
	}
	if spec.KeyFile != filepath.Join(root, ".lab", "id_ed25519") || spec.KnownHostsFile != filepath.Join(root, ".lab", "known_hosts") {
		t.Errorf("key %s, known_hosts %s", spec.KeyFile, spec.KnownHostsFile)
	}
}

// TestVagrantLabInventoryLoads: the committed Vagrant lab is a web server
// and a load balancer on the VM network, with its own state folder, and the
// nspawn lab refuses its addresses.
func TestVagrantLabInventoryLoads(t *testing.T) {
	inv, err := inventory.LoadTopology(filepath.Join("..", "..", "lab", "vagrant", "inventory.yml"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := specFromInventory(inv, lab.VMNetwork)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range spec.Hosts {
		got[h.Name] = h.Address
	}
	if len(got) != 2 || got["web-01"] != "198.18.1.21" || got["lb-01"] != "198.18.1.11" {
		t.Errorf("hosts %v", got)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, ".lab-vagrant"); spec.StateDir != want {
		t.Errorf("state dir %s, want %s (apart from the nspawn lab's .lab)", spec.StateDir, want)
	}
	if _, err := specFromInventory(inv, lab.Network); err == nil || !strings.Contains(err.Error(), "198.18.0.0/24") {
		t.Errorf("nspawn network accepted VM addresses: %v", err)
	}
}

func TestSpecFromInventoryRejects(t *testing.T) {
	tests := []struct {
		name string
		inv  inventory.Inventory
		want string
	}{
		{"no key", inventory.Inventory{Path: "x.yml", Hosts: []*inventory.Host{{Name: "a", Address: "198.18.0.5"}}}, "private_key"},
		{"no hosts", inventory.Inventory{Path: "x.yml", Connection: inventory.Connection{PrivateKey: "/s/k"}}, "no hosts"},
		{"no address", inventory.Inventory{Path: "x.yml", Connection: inventory.Connection{PrivateKey: "/s/k"}, Hosts: []*inventory.Host{{Name: "a"}}}, "has no address"},
		{"outside the lab range", inventory.Inventory{Path: "x.yml", Connection: inventory.Connection{PrivateKey: "/s/k"}, Hosts: []*inventory.Host{{Name: "a", Address: "10.0.0.5"}}}, "198.18.0.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := specFromInventory(&tt.inv, lab.Network)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLabSSHArgs(t *testing.T) {
	spec := lab.Spec{
		KeyFile: "/r/.lab/id_ed25519", KnownHostsFile: "/r/.lab/known_hosts",
		Hosts: []lab.HostSpec{{Name: "web-01", Address: "198.18.0.21"}},
	}
	argv, err := labSSHArgs(spec, "web-01", []string{"uname", "-a"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(argv, " ")
	for _, want := range []string{"-i /r/.lab/id_ed25519", "UserKnownHostsFile=/r/.lab/known_hosts", "StrictHostKeyChecking=yes", "root@198.18.0.21 uname -a"} {
		if !strings.Contains(got, want) {
			t.Errorf("ssh args %q lack %q", got, want)
		}
	}
	if _, err := labSSHArgs(spec, "db-09", nil); err == nil {
		t.Error("unknown host accepted")
	}
}

func TestLabStatusCommand(t *testing.T) {
	// status reads pid files only, so it runs anywhere; a fresh state dir
	// has every host stopped.
	dir := t.TempDir()
	inv := filepath.Join(dir, "lab.yml")
	if err := os.WriteFile(inv, []byte("connection: {private_key: state/id_ed25519}\ngroups:\n  web:\n    hosts:\n      web-01: {address: 198.18.0.21}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := ferryRun(context.Background(), t, "lab", "status", "-i", inv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(r.stdout, "web-01") || !strings.Contains(r.stdout, "198.18.0.21") || !strings.Contains(r.stdout, "stopped") {
		t.Errorf("status output:\n%s", r.stdout)
	}
}

func TestLabUpRejectsUnknownProvider(t *testing.T) {
	r := ferryRun(context.Background(), t, "lab", "up", "--provider", "qemu", "-i", filepath.Join("..", "..", "lab", "inventory.yml"))
	if r.err == nil || r.code != exitBadInput {
		t.Fatalf("err = %v (exit %d), want bad input", r.err, r.code)
	}
}
