package support

import (
	"fmt"

	"github.com/ferry-deploy/ferry/internal/shell"
	"github.com/ferry-deploy/ferry/inventory"
	"github.com/ferry-deploy/ferry/runner/hostread"
)

// HAProxy drains and readies a server through HAProxy's runtime API (the
// haproxy role's admin socket); it is the engine's runner.LoadBalancer.
type HAProxy struct{}

// DrainScript sets the server to drain and waits until HAProxy reports no
// current session on it. HAProxy offers no way to be told when a server's
// last session ends, so this polls the runtime API, on the balancer itself
// (one round trip from ferry), ten times a second, up to the timeout.
func (HAProxy) DrainScript(d *inventory.Drain, server string) string {
	return fmt.Sprintf(`sock=%s; backend=%s; srv=%s; deadline=$(( $(date +%%s) + %d ))
# A balancer not serving yet (first deploy) has nothing to drain.
[ -S "$sock" ] || exit 0
out=$(printf 'set server %%s/%%s state drain\n' "$backend" "$srv" | socat stdio "$sock")
case $out in "") ;; *"No such server"*|*"No such backend"*) exit 0;; *) echo "$out" >&2; exit 1;; esac
while :; do
  scur=$(%s)
  [ "${scur:-0}" = 0 ] && exit 0
  [ "$(date +%%s)" -ge "$deadline" ] && { echo "still $scur sessions on $backend/$srv after %s" >&2; exit 1; }
  sleep 0.1
done`, shell.Literal(d.Socket), shell.Literal(d.Backend), shell.Literal(server), int(d.Timeout.Seconds()),
		hostread.HAProxySessionsScript(`"$sock"`, `"$backend"`, `"$srv"`), d.Timeout)
}

// ReadyScript checks the host's health URL from the balancer until it
// answers (up to the timeout), then puts the server back in rotation.
func (HAProxy) ReadyScript(d *inventory.Drain, server, url string) string {
	return fmt.Sprintf(`deadline=$(( $(date +%%s) + %d ))
sock=%s; backend=%s; srv=%s; url=%s
[ -S "$sock" ] || exit 0
until curl -fsS -o /dev/null --max-time 2 "$url"; do
  [ "$(date +%%s)" -ge "$deadline" ] && { echo "$srv is not healthy: $url" >&2; exit 1; }
  sleep 0.2
done
out=$(printf 'set server %%s/%%s state ready\n' "$backend" "$srv" | socat stdio "$sock")
case $out in "") ;; *"No such server"*|*"No such backend"*) ;; *) echo "$out" >&2; exit 1;; esac
exit 0`, int(d.Timeout.Seconds()), shell.Literal(d.Socket), shell.Literal(d.Backend), shell.Literal(server), shell.Literal(url))
}
