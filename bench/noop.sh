#!/usr/bin/env bash
# bench/noop.sh [ROUNDS]: the no-op deploy of the lab stack
# (lab/inventory.yml, every host), before and after a change of ferry, in
# one lab session. Boots the lab, converges the stack (untimed), then ROUNDS
# (default 7) rounds of one no-op with $BEFORE and one with $FERRY, in
# alternating order so that a change of the machine's load hits both alike.
# Prints for each the median wall time (min-max), ferry's own CPU and the
# most SSH round trips any host cost (the recap's round_trips). The lab is
# always left down. Take the lab's lock:
#   BEFORE=/tmp/ferry-main flock /work/lab.lock bench/noop.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" # sets repo
rounds=${1:-7}
FERRY=${FERRY:-$repo/bin/ferry}
BEFORE=${BEFORE:?BEFORE names the ferry binary to compare with}
inv="$repo/lab/inventory.yml"
out=${OUT:-$here/results/noop-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/logs"
cd "$repo"
need_pkg jq jq

lab_converged "$FERRY" "$inv" "$out"

# timed KIND BINARY ROUND: one no-op deploy; appends its wall time, CPU and
# the largest round trips of a host.
timed() {
	local kind=$1 bin=$2 round=$3
	local log="$out/logs/$kind-$round.log" t0 rc=0
	t0=$(now)
	{ TIMEFORMAT='%U %S'; time "$bin" deploy -i "$inv" --output json >"$log" 2>&1 || rc=$?; } 2>>"$out/$kind.cpu.raw"
	elapsed "$t0" >>"$out/$kind.wall"
	tail -1 "$out/$kind.cpu.raw" | awk '{ printf "%.3f\n", $1 + $2 }' >>"$out/$kind.cpu"
	tail -n 1 "$log" | jq '[.hosts[] | .round_trips] | max' >>"$out/$kind.rt"
	read -r _ tasks changed _ _ < <(recap_rt "$log")
	echo "$kind round $round: exit $rc, $(tail -1 "$out/$kind.wall")s, at most $(tail -1 "$out/$kind.rt") round trips a host, $tasks tasks, $changed changed" >&2
}
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) = 1 ]; then
		timed before "$BEFORE" "$i"; timed after "$FERRY" "$i"
	else
		timed after "$FERRY" "$i"; timed before "$BEFORE" "$i"
	fi
done
{
	echo "no-op of lab/inventory.yml, $rounds rounds, $(date -u +%FT%TZ), ferry $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
	for kind in before after; do
		read -r m mn mx < <(stats "$out/$kind.wall")
		read -r cpu _ _ < <(stats "$out/$kind.cpu")
		read -r _ _ rt < <(stats "$out/$kind.rt")
		echo "$kind: median ${m}s (${mn}-${mx}), ferry CPU ${cpu}s, at most ${rt} round trips a host"
	done
} | tee "$out/summary.txt"
