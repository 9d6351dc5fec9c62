package lab

import (
	"os"
	"strconv"
	"syscall"
)

// closeInheritedOnExec marks every descriptor this process inherited (3 and
// up) close-on-exec, so the lab's long-lived processes — the hosts and the
// apt proxy — do not keep them open. Go opens its own files close-on-exec,
// but a descriptor handed down by the caller (a `flock LOCK ferry lab up`
// holding its lock, say) would otherwise live as long as the lab and hold
// that lock until `lab down`.
func closeInheritedOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
