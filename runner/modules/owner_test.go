package modules

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestNumericOwnerConverges: an owner and group given as numbers ("0")
// name the same owner as the names stat prints ("root"): the file is
// written once and the next plan changes nothing.
func TestNumericOwnerConverges(t *testing.T) {
	uid, gid := strconv.Itoa(os.Getuid()), strconv.Itoa(os.Getgid())
	sshT, sshRec, _ := sshTarget(t)
	localT, localRec := localTarget(t)
	for name, tg := range map[string]*Target{"ssh": sshT, "local": localT} {
		rec := sshRec
		if name == "local" {
			rec = localRec
		}
		dir := t.TempDir()
		converge(t, tg, rec, "copy", map[string]any{"dest": filepath.Join(dir, "f"), "content": "x\n", "owner": uid, "group": gid, "mode": "0640"})
		converge(t, tg, rec, "file", map[string]any{"path": filepath.Join(dir, "d"), "state": "directory", "owner": uid, "group": gid})
		// An existing file with the right content, owner given by number.
		p := filepath.Join(dir, "same")
		writeFile(t, p, []byte("y\n"), 0o600)
		c, err := newModule(t, "copy", map[string]any{"dest": p, "content": "y\n", "owner": uid, "group": gid}).Plan(t.Context(), tg)
		if err != nil || c.Changed {
			t.Errorf("%s: owner %s:%s of a file it already owns: changed %v %v, err %v", name, uid, gid, c.Changed, c.Summary, err)
		}
	}
}
