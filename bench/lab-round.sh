#!/usr/bin/env bash
# bench/lab-round.sh TOOL ROUND RAW: one benchmark round of TOOL (ferry or
# ansible) on the six-host seed stack, run by bench/run.sh under the main
# lab's lock (flock /run/ferry-lab-session.lock). Fresh lab, an untimed
# pre-step (python3-minimal and python3-apt on every host, for both tools, so
# the hosts are identical), then three timed runs:
#   converge  full converge of the seed stack from fresh hosts;
#   noop      the same run again (nothing to change);
#   change    -e nginx_frame_options=SAMEORIGIN: nginx.conf changes on both
#             web servers (validated, nginx reloaded, health handler).
# Appends "tool round phase wall_s changed round_trips tasks" to RAW.
# The lab is always left down.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" # sets repo
tool=$1 round=$2 raw=$3
FERRY=${FERRY:-/tmp/ferry-bench}
inv="$here/seed-inventory.yml"
logs=${LOGS:-$(dirname "$raw")/logs}
mkdir -p "$logs"
cd "$repo"

# lab down, retried while another ferry lab command holds the lab's state
# lock (a command run without the session lock); loud when it fails.
lab_down() {
	for _ in $(seq 1 30); do
		"$FERRY" lab down -i "$inv" >>"$logs/lab.log" 2>&1 && return 0
		sleep 2
	done
	echo "  lab down failed; see $logs/lab.log" >&2; tail -3 "$logs/lab.log" >&2
	return 1
}
trap 'lab_down' EXIT
lab_down
t0=$(now)
"$FERRY" lab up -i "$inv" >>"$logs/lab.log" 2>&1 || { echo "  lab up failed; see $logs/lab.log" >&2; tail -5 "$logs/lab.log" >&2; exit 1; }
echo "  lab up in $(elapsed "$t0")s" >&2

# Untimed pre-step: Ansible's interpreter and its apt module's binding.
prestep() {
	local h=$1
	"$FERRY" lab ssh -i "$inv" "$h" -- 'DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-minimal python3-apt >/dev/null'
}
pids=()
for h in db-01 db-02 web-01 web-02 lb-01 lb-02; do prestep "$h" >>"$logs/lab.log" 2>&1 & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done

# timed PHASE CMD...: run, record wall time; the log is the command's output.
run_phase() {
	local phase=$1; shift
	local log="$logs/$tool-$round-$phase.log" t0 wall rc=0
	t0=$(now)
	"$@" >"$log" 2>&1 || rc=$?
	wall=$(elapsed "$t0")
	local changed=- rt=- tasks=-
	if [ "$tool" = ferry ]; then
		read -r rt tasks changed _ _ < <(recap_rt "$log")
	else
		changed=$(awk '/^PLAY RECAP/ {r=1; next} r && /changed=/ { for (i=1;i<=NF;i++) if ($i ~ /^changed=/) { split($i,a,"="); c+=a[2] } } END {print c+0}' "$log")
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$round" "$phase" "$wall" "$changed" "$rt" "$tasks" "$rc" >>"$raw"
	echo "  $tool #$round $phase: ${wall}s changed=$changed rc=$rc${rt:+ round_trips=$rt tasks=$tasks}" >&2
	[ "$rc" = 0 ] || { echo "  $tool #$round $phase failed; see $log" >&2; tail -20 "$log" >&2; return 1; }
}

change=(-e nginx_frame_options=SAMEORIGIN)
if [ "$tool" = ferry ]; then
	f=("$FERRY" deploy -i "$inv" --output json)
	run_phase converge "${f[@]}"
	run_phase noop "${f[@]}"
	run_phase change "${f[@]}" "${change[@]}"
else
	a=(env ANSIBLE_CONFIG="$here/ansible/ansible.cfg" ansible-playbook -i "$here/ansible/inventory.ini" "$here/ansible/site.yml")
	cd "$here/ansible"
	run_phase converge "${a[@]}"
	run_phase noop "${a[@]}"
	run_phase change "${a[@]}" "${change[@]}"
fi
