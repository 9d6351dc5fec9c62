package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// TestStaticErrorsBeforeConnecting: argument errors that do not depend on
// the host are bad input reported before any connection, also when a host
// is unreachable (which used to hide them behind exit 2).
func TestStaticErrorsBeforeConnecting(t *testing.T) {
	cases := []struct{ name, task, want string }{
		{"unquoted mode", `copy: {content: "x", dest: /tmp/x, mode: 0644}`, "mode"},
		{"relative dest", `copy: {content: "x", dest: "etc/x"}`, "dest"},
		{"bad state", `file: {path: /tmp/x, state: maybe}`, "maybe"},
		{"service without state", `service: {name: nginx}`, "state"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, []string{"h01"})
			s.role("bad", "tasks:\n  - name: ok first\n    copy: {content: \"y\\n\", dest: \"{{ .root }}/first\"}\n  - name: bad\n    "+tc.task+"\n", nil)
			inv := s.write("inventory.yml", s.connection()+"groups:\n  site:\n    roles: [bad]\n    hosts:\n"+s.hostLines("      ")+
				fmt.Sprintf("      down: {address: 127.0.0.1, port: %d}\n", sshtest.ClosedPort(t)), 0o644)
			r := ferryRun(context.Background(), t, "deploy", "-i", inv, "--roles-path", s.dir+"/roles")
			if r.code != exitBadInput {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, exitBadInput, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, "role.yml:4") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("the error does not name role.yml:4 and %q: %s", tc.want, r.stderr)
			}
			if n := s.Servers["h01"].Connections(); n != 0 {
				t.Errorf("%d connections before the bad input was reported", n)
			}
			// Only an unreachable host: still exit 3, not 2.
			only := s.write("down.yml", s.connection()+"groups:\n  site:\n    roles: [bad]\n    hosts:\n"+
				fmt.Sprintf("      down: {address: 127.0.0.1, port: %d}\n", sshtest.ClosedPort(t)), 0o644)
			if r := ferryRun(context.Background(), t, "deploy", "-i", only, "--roles-path", s.dir+"/roles"); r.code != exitBadInput {
				t.Errorf("unreachable host only: exit %d, want %d\n%s%s", r.code, exitBadInput, r.stdout, r.stderr)
			}
		})
	}
}
