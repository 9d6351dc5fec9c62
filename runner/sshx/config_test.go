package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/ferry-deploy/ferry/runner/executor"
)

func TestParseJump(t *testing.T) {
	tests := []struct {
		in      string
		want    []JumpHost
		wantErr bool
	}{
		{"", nil, false},
		{"none", nil, false},
		{"bastion", []JumpHost{{Address: "bastion"}}, false},
		{"ops@bastion:2222", []JumpHost{{Address: "bastion", Port: 2222, User: "ops"}}, false},
		{"a@b@[::1]:22, c", []JumpHost{{Address: "::1", Port: 22, User: "a@b"}, {Address: "c"}}, false},
		{"bastion:0", nil, true},
		{"bastion:http", nil, true},
		{"ops@", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseJump(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseJump(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestProxyJump: a ProxyJump string is dialled as the bastions it lists,
// and one that does not parse is Dial's error, naming it.
func TestProxyJump(t *testing.T) {
	cfg := Config{Host: "db-01", Address: "198.18.0.31", User: "deploy", PrivateKeys: []string{"/k"},
		ProxyJump: "jump@198.18.0.2:2222", SSHConfigFile: "none"}
	hops, err := cfg.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if len(hops) != 2 || hops[0].host != "198.18.0.2" || hops[0].port != 2222 || hops[0].user != "jump" || hops[1].host != "198.18.0.31" {
		t.Errorf("hops %+v, want the bastion jump@198.18.0.2:2222 then the target", hops)
	}
	cfg.ProxyJump = "bastion:nope"
	if _, err := Dial(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "bastion:nope") {
		t.Errorf("bad ProxyJump: Dial error %v", err)
	}
}

func TestResolveSSHConfig(t *testing.T) {
	dir := t.TempDir()
	id := filepath.Join(dir, "id_web")
	if err := os.WriteFile(id, []byte("unused"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config")
	conf := "Host web-*\n  HostName %h.internal\n  User admin\n  Port 2222\n  IdentityFile " + id +
		"\n  IdentityFile " + filepath.Join(dir, "missing") + "\n  ProxyJump ops@gate:2022\n" +
		"Host gate\n  HostName 10.0.0.1\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	hops, err := Config{Host: "web-1", SSHConfigFile: path}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := []hop{
		{name: "gate", host: "10.0.0.1", port: 2022, user: "ops", keys: []string{id}},
		{name: "web-1", host: "web-1.internal", port: 2222, user: "admin", keys: []string{id}},
	}
	if !reflect.DeepEqual(hops, want) {
		t.Errorf("resolve =\n%+v\nwant\n%+v", hops, want)
	}
	// Explicit settings win over ssh_config.
	hops, err = Config{Host: "web-1", Port: 22, User: "me", PrivateKeys: []string{"k"}, SSHConfigFile: path,
		Jump: []JumpHost{{Address: "other"}}}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if got := hops[1]; got.port != 22 || got.user != "me" || got.keys[0] != "k" || hops[0].host != "other" || hops[0].user != "me" {
		t.Errorf("explicit settings lost: %+v", hops)
	}
	if _, err := (Config{Host: "x", SSHConfigFile: filepath.Join(dir, "nope")}).resolve(); err == nil {
		t.Error("a missing explicit ssh config is not an error")
	}
}

// TestPreambleRoundTrip runs the real bootstrap through a local /bin/sh:
// whatever the values, the script sees them exactly, and the rest of stdin.
func TestPreambleRoundTrip(t *testing.T) {
	env := map[string]string{"A": `it's "quoted" $HOME ` + "`x`\n\\", "EMPTY": "", "U": "ünï"}
	script := `printf '%s|%s|%s|' "$A" "$EMPTY" "$U"; cat`
	pre, err := preamble(env, script)
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf(bootstrap, len(pre))
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Stdin = io.MultiReader(strings.NewReader(pre), strings.NewReader("rest"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := env["A"] + "||ünï|rest"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if _, err := preamble(map[string]string{"1BAD": "x"}, ""); err == nil {
		t.Error("bad env name accepted")
	}
	if _, err := preamble(map[string]string{"K": "se\x00cret"}, ""); err == nil || strings.Contains(err.Error(), "cret") {
		t.Errorf("NUL value: %v", err)
	}
}

func TestParseStatAndModes(t *testing.T) {
	fi, err := parseStat("file\n2755 root staff 12\nabc\n")
	want := executor.FileInfo{Exists: true, Mode: 0o755 | fs.ModeSetgid, Owner: "root", Group: "staff", Size: 12, SHA256: "abc"}
	if err != nil || fi != want {
		t.Errorf("parseStat = %+v, %v", fi, err)
	}
	for _, bad := range []string{"file\n", "file\nxyz root root 1\n\n", "file\n644 root\n\n"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&HostKeyError{Kind: HostKeyChanged}, ReasonHostKey},
		{&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, ReasonDNS},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), ReasonTimeout},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, ReasonRefused},
		{errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey]"), ReasonAuth},
		{fmt.Errorf("ssh: handshake failed: %w", io.EOF), ReasonConnectionLost},
		{errors.New("something else"), ReasonUnknown},
		{unreachable(ReasonTimeout, "connect x", io.EOF), ReasonTimeout},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if Reason(nil) != "" {
		t.Error("Reason(nil) not empty")
	}
	if err := unreachable("", "connect x", io.EOF); !errors.Is(err, executor.ErrUnreachable) || !errors.Is(err, io.EOF) {
		t.Errorf("unreachable error does not match both ErrUnreachable and its cause: %v", err)
	}
}
