package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// run runs a command and folds its output into the error, because the
// output of ip, nginx and debootstrap is what explains a failure.
func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// cmdline returns the NUL-separated arguments of a process, nil if it is gone.
func cmdline(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

// otherPids lists the processes in /proc but this one: the lab's searches
// must never find (and signal) the ferry that searches.
func otherPids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// findProcs returns the pids whose command line satisfies match.
func findProcs(match func(args []string) bool) []int {
	var pids []int
	for _, pid := range otherPids() {
		if args := cmdline(pid); args != nil && match(args) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// readPidFile returns the pid in a pid file if that process still runs and
// its command line satisfies match; a stale or recycled pid gives 0.
func readPidFile(path string, match func(args []string) bool) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	if args := cmdline(pid); args != nil && match(args) && !isZombie(pid) {
		return pid
	}
	return 0
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name, which may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] == 'Z'
}

// terminate sends sig to every pid and awaits their exit through pidfds;
// whatever outlives the grace period is killed. The processes are not our
// children (an earlier ferry started them), so wait(2) cannot be used.
func terminate(ctx context.Context, pids []int, sig syscall.Signal, grace time.Duration) error {
	fds := map[int]int{}
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // already gone
		}
		fds[pid] = fd
		if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			closeAll(fds)
			return fmt.Errorf("signal pid %d: %w", pid, err)
		}
	}
	defer closeAll(fds)
	deadline := time.Now().Add(grace)
	for len(fds) > 0 {
		remaining := time.Until(deadline)
		if remaining <= 0 || ctx.Err() != nil {
			break
		}
		pfds := make([]unix.PollFd, 0, len(fds))
		for _, fd := range fds {
			pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
		// Wake at least every 250ms so a cancelled context is noticed.
		if _, err := unix.Poll(pfds, int(min(remaining, 250*time.Millisecond)/time.Millisecond)); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll pidfds: %w", err)
		}
		for _, p := range pfds {
			if p.Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) == 0 {
				continue
			}
			for pid, fd := range fds {
				if int32(fd) == p.Fd {
					unix.Close(fd)
					delete(fds, pid)
				}
			}
		}
	}
	var stuck []string
	pfds := make([]unix.PollFd, 0, len(fds))
	for pid, fd := range fds {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		stuck = append(stuck, strconv.Itoa(pid))
		pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	if len(stuck) == 0 {
		return nil
	}
	// Await the kills (bounded), so that what follows (unmounting, removing
	// the namespaces) does not race the dying processes.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		if _, err := unix.Poll(pfds, 250); err != nil && !errors.Is(err, unix.EINTR) {
			break
		}
		done := true
		for _, p := range pfds {
			if p.Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) == 0 {
				done = false
			}
		}
		if done {
			break
		}
	}
	return &KilledError{Pids: stuck, Signal: sig, Grace: grace}
}

// KilledError says that processes outlived their signal's grace time and
// were killed: the stop happened, though not cleanly (a lab host whose
// shutdown hangs on a unit, say). Callers that only need the processes
// gone may treat it as a warning.
type KilledError struct {
	Pids   []string
	Signal syscall.Signal
	Grace  time.Duration
}

func (e *KilledError) Error() string {
	return fmt.Sprintf("pids %s ignored %s for %s and were killed", strings.Join(e.Pids, ", "), e.Signal, e.Grace)
}

func closeAll(fds map[int]int) {
	for pid, fd := range fds {
		unix.Close(fd)
		delete(fds, pid)
	}
}

// procsInNetns lists processes living in the network namespace bound at
// path: what is left of a host whose nspawn died without stopping it.
func procsInNetns(path string) []int {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return nil
	}
	var pids []int
	for _, pid := range otherPids() {
		var st unix.Stat_t
		if unix.Stat(filepath.Join("/proc", strconv.Itoa(pid), "ns/net"), &st) == nil && st.Ino == want.Ino && st.Dev == want.Dev {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsUnder lists mount points at or below dir, deepest first, so they can
// be unmounted in order.
func mountsUnder(dir string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	// A child's path is longer than its parent's.
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// unescapeMount decodes the octal escapes (\040 for space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// removeTree unmounts whatever is mounted below dir and then removes it.
// Removing without unmounting first could follow a bind mount of /dev or
// /proc left by a crashed debootstrap into the controller's own files.
func removeTree(dir string) error {
	mps, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", mp, err)
		}
	}
	if mps, _ := mountsUnder(dir); len(mps) > 0 {
		return fmt.Errorf("remove %s: still mounted: %s", dir, strings.Join(mps, ", "))
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
