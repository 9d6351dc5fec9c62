package modules

import (
	"path/filepath"
	"testing"

	"github.com/ferry-deploy/ferry/runner/sshtest"
)

// fakeSystemctl keeps one unit's state in $UNIT_DIR: "limit" stands for a
// start limit hit earlier (start refused until reset-failed), "active" for
// a running unit.
const fakeSystemctl = `#!/bin/sh
d=$UNIT_DIR
for n; do :; done
case "$1" in
  show) a=failed; [ -e "$d/active" ] && a=active
    printf 'Id=%s.service\nLoadState=loaded\nActiveState=%s\nUnitFileState=enabled\n' "$n" "$a" ;;
  is-active) if [ -e "$d/active" ]; then echo active; else echo failed; exit 3; fi ;;
  is-enabled) echo enabled ;;
  reset-failed) rm -f "$d/limit" ;;
  start|restart)
    if [ -e "$d/limit" ]; then echo "Job for x.service failed: Start request repeated too quickly." >&2; exit 1; fi
    touch "$d/active" ;;
  status) echo "x.service: failed" ;;
  *) echo "fake systemctl: $*" >&2; exit 1 ;;
esac
`

// TestServiceStartsAfterStartLimit: a unit that hit its start limit before
// (a package's postinst started it with default arguments, which failed)
// is started once its configuration is right.
func TestServiceStartsAfterStartLimit(t *testing.T) {
	bin, unit := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(bin, "systemctl"), []byte(fakeSystemctl), 0o755)
	writeFile(t, filepath.Join(unit, "limit"), nil, 0o644)
	tg, rec, _ := sshTarget(t, sshtest.WithPath(bin), sshtest.WithEnv("UNIT_DIR="+unit))
	converge(t, tg, rec, "service", map[string]any{"name": "exporter", "state": "started"})
}
