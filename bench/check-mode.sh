#!/usr/bin/env bash
# bench/check-mode.sh [ROUNDS]: what check mode costs against a no-op run of
# the same roles, on the lab stack (lab/inventory.yml, every host). Boots the
# lab, converges the stack (untimed), then ROUNDS (default 7) rounds of one
# no-op deploy and one --check deploy, in alternating order so that a change
# of the machine's load hits both alike. Prints the medians, their ratio and
# the round trips and ferry's own CPU time of each; summary.txt and the
# *.wall, *.cpu and *.rt rows are kept,
# logs/ is for reading (not committed). The lab is always left down. Take
# the lab's lock:
#   flock /work/lab.lock bench/check-mode.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" # sets repo
rounds=${1:-7}
FERRY=${FERRY:-$repo/bin/ferry}
inv="$repo/lab/inventory.yml"
out=${OUT:-$here/results/check-mode-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/logs"
cd "$repo"
need_pkg jq jq

lab_converged "$FERRY" "$inv" "$out"

# timed KIND ROUND ARGS...: one deploy; appends its wall time and round trips.
timed() {
	local kind=$1 round=$2; shift 2
	local log="$out/logs/$kind-$round.log" t0 rc=0
	t0=$(now)
	# ferry's own CPU (user + system), apart from the machine's load.
	{ TIMEFORMAT='%U %S'; time "$FERRY" deploy -i "$inv" --output json "$@" >"$log" 2>&1 || rc=$?; } 2>>"$out/$kind.cpu.raw"
	elapsed "$t0" >>"$out/$kind.wall"
	tail -1 "$out/$kind.cpu.raw" | awk '{ printf "%.3f\n", $1 + $2 }' >>"$out/$kind.cpu"
	read -r rt tasks changed _ _ < <(recap_rt "$log")
	echo "$rt" >>"$out/$kind.rt"
	echo "$kind round $round: exit $rc, $(tail -1 "$out/$kind.wall")s, $rt round trips, $tasks tasks, $changed changed" >&2
}
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) = 1 ]; then
		timed noop "$i"; timed check "$i" --check
	else
		timed check "$i" --check; timed noop "$i"
	fi
done
read -r nm nmin nmax < <(stats "$out/noop.wall")
read -r cm cmin cmax < <(stats "$out/check.wall")
read -r ncpu _ _ < <(stats "$out/noop.cpu")
read -r ccpu _ _ < <(stats "$out/check.cpu")
read -r nrt _ _ < <(stats "$out/noop.rt")
read -r crt _ _ < <(stats "$out/check.rt")
ratio=$(awk -v c="$cm" -v n="$nm" 'BEGIN { printf "%.2f", c / n }')
{
	echo "check mode vs no-op, lab stack, $rounds rounds, $(date -u +%FT%TZ), ferry $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "no-op deploy:  median ${nm}s (${nmin}-${nmax}), ${nrt} round trips, ferry CPU ${ncpu}s"
	echo "check deploy:  median ${cm}s (${cmin}-${cmax}), ${crt} round trips, ferry CPU ${ccpu}s"
	echo "check / no-op: ${ratio}x"
} | tee "$out/summary.txt"
