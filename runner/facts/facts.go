// Package facts reads what modules and templates need to know about a host
// (OS family, package manager, init system, addresses, size) in one round
// trip, once per host.
package facts

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-deploy/ferry/runner/executor"
	"github.com/ferry-deploy/ferry/runner/hostread"
	"github.com/ferry-deploy/ferry/runner/statedir"
)

// script prints one "key=value" line per fact. It only reads, needs no
// privileges and relies on nothing beyond POSIX sh and /proc, with
// iproute2's ip preferred for addresses (its own lines, after the line
// ipLines, read by hostread's address reader) and hostname -I as the
// fallback. The state folder comes first: its holder line confirms a run
// lock for all that follows. Every fact but the addresses is read with the
// shell's builtins where Linux offers a file for it (hostname, the online
// CPUs, MemTotal): each process costs a host a millisecond or two, and
// this runs on every host of every run.
const script = statedir.Script + `if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=${ID:-}"
echo "os_version=${VERSION_ID:-}"
echo "os_like=${ID_LIKE:-}"
for m in apt-get dnf yum; do
  if command -v "$m" >/dev/null 2>&1; then echo "pkg_mgr=$m"; break; fi
done
if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=sysvinit; fi
if { IFS= read -r h </proc/sys/kernel/hostname; } 2>/dev/null; then echo "hostname=$h"
else echo "hostname=$(hostname 2>/dev/null)"; fi
if { read -r c </sys/devices/system/cpu/online; } 2>/dev/null; then echo "cpus_online=$c"
else echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)"; fi
{ while read -r k v _; do
  if [ "$k" = MemTotal: ]; then echo "memory_kb=$v"; break; fi
done </proc/meminfo; } 2>/dev/null
if command -v ip >/dev/null 2>&1; then
  echo ` + ipLines + `
  ` + hostread.AddressesScript + ` 2>/dev/null
else
  for a in $(hostname -I 2>/dev/null); do echo "address=$a"; done
fi
exit 0
`

// ipLines is the line after which every line of script's output is ip's.
const ipLines = "ip-o-addr-show:"

// Gather reads the facts of the host behind exec with a single command.
//
// Keys: os_id, os_version, os_family (debian|redhat|suse|arch|alpine, else
// os_id), pkg_mgr (apt|dnf|yum, empty when none), init (systemd|sysvinit),
// hostname, addresses ([]string: IPv4 and IPv6 without loopback and
// link-local ones), cpus (int), memory_mb (int).
func Gather(ctx context.Context, exec executor.Executor) (map[string]any, error) {
	f, _, err := GatherIn(ctx, exec, statedir.Where{})
	return f, err
}

// GatherIn is Gather that also reads what an earlier run left in the
// host's state folder (pending handlers, drained plays, the run lock's
// holder), in the same round trip, as w says (with w.Become as root: the
// runs that wrote it did so too).
func GatherIn(ctx context.Context, exec executor.Executor, w statedir.Where) (map[string]any, statedir.Left, error) {
	cmd := executor.Command{Script: script, Become: w.Become, Env: w.Env()}
	res, err := exec.Run(ctx, cmd)
	if err != nil {
		return nil, statedir.Left{}, fmt.Errorf("gather facts: %w", err)
	}
	if !res.OK() {
		return nil, statedir.Left{}, fmt.Errorf("gather facts: exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return Parse(string(res.Stdout))
}

// Parse turns the gathering script's output into facts, and what an
// earlier run left in the state folder.
func Parse(out string) (map[string]any, statedir.Left, error) {
	raw := map[string]string{}
	addrs := []string{}
	var left statedir.Left
	sc := bufio.NewScanner(strings.NewReader(out))
	ipOutput := false
	for sc.Scan() {
		if ipOutput {
			addrs = addAddresses(addrs, hostread.ParseAddresses(sc.Text())...)
			continue
		}
		if sc.Text() == ipLines {
			ipOutput = true
			continue
		}
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || left.Line(k, v) {
			continue
		}
		if k == "address" {
			if a, err := netip.ParseAddr(v); err == nil {
				addrs = addAddresses(addrs, hostread.Addr{Addr: a})
			}
			continue
		}
		raw[k] = strings.TrimSpace(v)
	}
	if raw["os_id"] == "" {
		return nil, left, fmt.Errorf("gather facts: no os_id (is /etc/os-release missing?)")
	}
	cpus, err := cpuCount(raw)
	if err != nil {
		return nil, left, fmt.Errorf("gather facts: %w", err)
	}
	memKB, err := strconv.Atoi(raw["memory_kb"])
	if err != nil {
		return nil, left, fmt.Errorf("gather facts: memory %q: %w", raw["memory_kb"], err)
	}
	pkg := raw["pkg_mgr"]
	if pkg == "apt-get" {
		pkg = "apt"
	}
	return map[string]any{
		"os_id":      raw["os_id"],
		"os_version": raw["os_version"],
		"os_family":  family(raw["os_id"], raw["os_like"]),
		"pkg_mgr":    pkg,
		"init":       raw["init"],
		"hostname":   raw["hostname"],
		"addresses":  addrs,
		"cpus":       cpus,
		"memory_mb":  memKB / 1024,
	}, left, nil
}

// addAddresses appends the addresses another host can reach this one at,
// each once.
func addAddresses(addrs []string, found ...hostread.Addr) []string {
	for _, a := range found {
		if v := a.Addr.String(); keepAddress(a.Addr) && !slices.Contains(addrs, v) {
			addrs = append(addrs, v)
		}
	}
	return addrs
}

// cpuCount is the number of online CPUs: counted from the kernel's list
// (cpus_online, e.g. "0-3,6", as glibc's getconf counts it) or as getconf
// gave it (cpus) where the list could not be read.
func cpuCount(raw map[string]string) (int, error) {
	list, ok := raw["cpus_online"]
	if !ok {
		n, err := strconv.Atoi(raw["cpus"])
		if err != nil || n < 1 {
			return 0, fmt.Errorf("cpus %q: not a count", raw["cpus"])
		}
		return n, nil
	}
	n := 0
	for _, r := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		if !isRange {
			hi = lo
		}
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		if errA != nil || errB != nil || a < 0 || b < a {
			return 0, fmt.Errorf("online cpus %q: not a list of ranges", list)
		}
		n += b - a + 1
	}
	return n, nil
}

// keepAddress drops loopback and link-local addresses: neither can be used
// by another host to reach this one.
func keepAddress(a netip.Addr) bool {
	return a.IsValid() && !a.IsLoopback() && !a.IsLinkLocalUnicast() && !a.IsUnspecified()
}

// family maps an os-release ID (and ID_LIKE) to the family name modules
// branch on.
func family(id, like string) string {
	known := map[string]string{
		"debian": "debian", "ubuntu": "debian",
		"rhel": "redhat", "centos": "redhat", "fedora": "redhat", "rocky": "redhat", "almalinux": "redhat", "ol": "redhat",
		"suse": "suse", "opensuse": "suse", "sles": "suse",
		"arch": "arch", "alpine": "alpine",
	}
	if f, ok := known[id]; ok {
		return f
	}
	for _, l := range strings.Fields(like) {
		if f, ok := known[l]; ok {
			return f
		}
	}
	return id
}
