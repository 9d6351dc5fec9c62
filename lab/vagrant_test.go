package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSSHConfigRecorded(t *testing.T) {
	tests := []struct {
		file  string
		count int
		want  []VagrantHost
	}{
		{
			file:  "ssh-config-virtualbox.txt",
			count: 6,
			want: []VagrantHost{
				{Name: "db-01", HostName: "127.0.0.1", Port: 2222, User: "vagrant", IdentityFile: "/home/dev/ferry/lab/.vagrant/machines/db-01/virtualbox/private_key"},
				{Name: "lb-02", HostName: "127.0.0.1", Port: 2204, User: "vagrant", IdentityFile: "/home/dev/ferry/lab/.vagrant/machines/lb-02/virtualbox/private_key"},
			},
		},
		{
			// Quoted path with a space; the first IdentityFile wins, as in ssh.
			file:  "ssh-config-libvirt.txt",
			count: 1,
			want: []VagrantHost{
				{Name: "web-01", HostName: "192.0.2.57", Port: 22, User: "vagrant", IdentityFile: "/home/dev/My Projects/ferry/lab/.vagrant/machines/web-01/libvirt/private_key"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "testdata", "vagrant", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			hosts, err := ParseSSHConfig(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(hosts) != tt.count {
				t.Fatalf("got %d hosts, want %d", len(hosts), tt.count)
			}
			byName := map[string]VagrantHost{}
			for _, h := range hosts {
				byName[h.Name] = h
			}
			for _, w := range tt.want {
				if got := byName[w.Name]; got != w {
					t.Errorf("host %s = %+v, want %+v", w.Name, got, w)
				}
			}
		})
	}
}

func TestParseSSHConfigErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"option before host", "HostName 127.0.0.1\n", "before any Host"},
		{"bad port", "Host a\n  HostName x\n  Port 99999\n", `port "99999"`},
		{"no hostname", "Host a\n  User vagrant\n", "no HostName"},
		{"no value", "Host a\n  HostName\n", "has no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSSHConfig([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseSSHConfigEqualsSyntax(t *testing.T) {
	hosts, err := ParseSSHConfig([]byte("Host=a\nHostName=198.18.0.21\nPORT 2222\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0].HostName != "198.18.0.21" || hosts[0].Port != 2222 {
		t.Fatalf("got %+v", hosts)
	}
}

func TestSaveVagrantHosts(t *testing.T) {
	dir := t.TempDir()
	hosts := []VagrantHost{{Name: "web-01", HostName: "127.0.0.1", Port: 2201, User: "vagrant", IdentityFile: "/k"}}
	if err := saveVagrantHosts(dir, []byte("Host web-01\n"), hosts); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, vagrantFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"port": 2201`) || !strings.Contains(string(data), `"identity_file": "/k"`) {
		t.Errorf("saved settings: %s", data)
	}
}
