// Package statedir is the layout of ferry's state folder on a host (host
// variable ferry_state_dir, default /var/lib/ferry), and the reader of what
// an earlier run left there: handlers still pending, plays that left the
// host out of rotation. The engine keeps that state apart from the facts
// templates see.
package statedir

import (
	"path"
	"slices"
	"strings"
)

// Default holds ferry's state on a host unless ferry_state_dir says otherwise.
const Default = "/var/lib/ferry"

// PendingFile lists, one a line, the handlers play notified that have not
// run yet.
func PendingFile(dir, play string) string { return path.Join(dir, "pending", play) }

// DrainedFile exists while play keeps the host out of rotation.
func DrainedFile(dir, play string) string { return path.Join(dir, "drained", play) }

// DeployedFile exists once a real (not check mode) deploy has held the
// host's run lock: a host without it has never been deployed by ferry, and
// its first deploy is planned in its turn only (runner/planfirst.go).
func DeployedFile(dir string) string { return path.Join(dir, deployedName) }

const deployedName = "deployed"

// MarkDeployed is shell that creates DeployedFile in the folder $d.
const MarkDeployed = `: >>"$d/` + deployedName + `"`

// HolderFile names the run holding the host's run lock (run.lock beside
// it; runner/hostlock.go).
func HolderFile(dir string) string { return path.Join(dir, holderName) }

const holderName = "run.holder"

// Where says which state folder to read, and how.
type Where struct {
	// Dir is the state folder ("" is Default).
	Dir string
	// Become reads it as root: a host reached as an unprivileged user is
	// written through sudo, in folders only root may read.
	Become bool
	// Run, when set, names the run that is taking the host's run lock:
	// Script waits up to a second for the holder file to name it, so that
	// the read confirms the lock (runner/hostlock.go).
	Run string
}

// Env is the environment that tells Script w.
func (w Where) Env() map[string]string {
	env := map[string]string{}
	if w.Dir != "" {
		env["FERRY_STATE_DIR"] = w.Dir
	}
	if w.Run != "" {
		env["FERRY_RUN"] = w.Run
	}
	return env
}

// Script prints what an earlier run left in the state folder named by
// $FERRY_STATE_DIR (default Default): one "pending=PLAY/HANDLER" line per
// pending handler, one "drained=PLAY" line per drained play and
// "deployed=yes" once a real deploy has run there. First comes
// "holder=RUN", the run that holds the host's run lock; with $FERRY_RUN
// set, once the holder is that run or a second has passed, so that a read
// made while the run takes its lock confirms it and reads the rest under
// it. It is meant to ride with another read of the host (the facts) in one
// round trip, before it.
const Script = `sd=${FERRY_STATE_DIR:-` + Default + `} i=0
while h=; { read -r h _ <"$sd/` + holderName + `"; } 2>/dev/null
  [ -n "${FERRY_RUN:-}" ] && [ "$h" != "$FERRY_RUN" ] && [ $i -lt 20 ]; do
  i=$((i + 1)); sleep 0.05
done
[ -z "$h" ] || echo "holder=$h"
for f in "$sd"/pending/*; do
  [ -f "$f" ] && sed "s|^|pending=${f##*/}/|" "$f"
done
for f in "$sd"/drained/*; do
  [ -f "$f" ] && echo "drained=${f##*/}"
done
if [ -e "$sd/` + deployedName + `" ]; then echo deployed=yes; fi
`

// Left is what an earlier run left on a host.
type Left struct {
	// PendingHandlers are "PLAY/HANDLER": notified, not run yet.
	PendingHandlers []string
	// DrainedPlays left the host out of rotation (their run failed).
	DrainedPlays []string
	// Deployed is true once a real deploy has run on the host.
	Deployed bool
	// Holder names the run that held the host's run lock when it was read
	// ("" when none).
	Holder string
}

// Line takes one "key=value" line of Script's output; it reports whether
// the line was one of Script's.
func (l *Left) Line(key, value string) bool {
	switch key {
	case "pending":
		if !slices.Contains(l.PendingHandlers, value) {
			l.PendingHandlers = append(l.PendingHandlers, value)
		}
	case "drained":
		l.DrainedPlays = append(l.DrainedPlays, value)
	case "deployed":
		l.Deployed = value == "yes"
	case "holder":
		l.Holder = value
	default:
		return false
	}
	return true
}

// Pending returns the handlers of play that an earlier run left pending.
func (l Left) Pending(play string) []string {
	var out []string
	for _, p := range l.PendingHandlers {
		if name, ok := strings.CutPrefix(p, play+"/"); ok {
			out = append(out, name)
		}
	}
	return out
}

// Drained reports whether an earlier run left the host out of rotation in play.
func (l Left) Drained(play string) bool { return slices.Contains(l.DrainedPlays, play) }
