#!/usr/bin/env bash
# bench/scale/down.sh: remove everything bench/scale/up.sh made, from what
# exists (pid files, namespaces, the state folder), so it also cleans after a
# crash. Safe to run when nothing is up.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# sshd processes: by their own pid files (never by name).
for pf in "$SCALE_DIR"/hosts/*/sshd.pid; do
	[ -f "$pf" ] || continue
	pid=$(cat "$pf" 2>/dev/null) || continue
	# Only an sshd started with this lab's config.
	if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$SCALE_DIR/hosts/"; then
		kill "$pid" 2>/dev/null
	fi
done
# Host namespaces (deleting one removes its veth, and the peer on the bridge).
for ns in $(ip netns list | awk '{print $1}' | grep -E "^$SCALE_NS-a[0-9]{1,3}\$"); do
	ip netns delete "$ns"
done
if ip netns list | awk '{print $1}' | grep -qx "$SCALE_NS"; then
	ip netns delete "$SCALE_NS"
fi
# Wait for sshds to exit before the state folder goes.
for _ in $(seq 1 50); do
	left=0
	for pf in "$SCALE_DIR"/hosts/*/sshd.pid; do
		[ -f "$pf" ] && pid=$(cat "$pf" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && left=1
	done
	(( left )) || break
	sleep 0.1
done
# The cgroup goes once its last process has (rmdir refuses a busy one).
if [ -d "$SCALE_CGROUP" ]; then
	for _ in $(seq 1 50); do
		[ -s "$SCALE_CGROUP/cgroup.procs" ] || break
		sleep 0.1
	done
	rmdir "$SCALE_CGROUP" 2>/dev/null || echo "down.sh: $SCALE_CGROUP still has processes: $(tr '\n' ' ' <"$SCALE_CGROUP/cgroup.procs")" >&2
fi
case "$SCALE_DIR" in /tmp/ferry-scale*|/run/ferry-scale*) rm -rf "$SCALE_DIR" ;; esac
exit 0
