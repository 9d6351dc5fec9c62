#!/usr/bin/env bash
# bench/scale/shards.sh [N [K]]: prove on the scale lab (N hosts, default
# 1000) that K shards (default 4), run as K processes at the same time,
# cover every host exactly once and merge to the recap of one run:
#   0. one real run of every host (scale_change=s0) converges the hosts;
#   1. one check run of every host for scale_change=s1, then the K check
#      shards: each host is in exactly one shard, and `ferry recap merge` of
#      the shards equals the one run's recap (all but duration_ms);
#   2. the K real shards (s1), then one real run of every host (s2), each
#      changing the same one file on every host: the merged recap equals
#      that run's;
#   3. one more run of every host (s2) changes nothing.
# Prints what it checked (also into bench/results/shards-*.txt); exits 1 at
# the first difference. The scale lab is torn down at the end (trap). Use
# SCALE_NS/SCALE_DIR to run it beside another scale lab, SCALE_ROOTS to
# start from converged hosts (lib.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../lib.sh"

n=${1:-1000}
k=${2:-4}
FERRY=${FERRY:-/tmp/ferry-bench}
[ -x "$FERRY" ] || { echo "shards: $FERRY not found (copy bin/ferry there)" >&2; exit 3; }
need_pkg jq jq
work=$(mktemp -d /tmp/ferry-shards.XXXXXX)
out=${RESULTS:-$here/../results}
mkdir -p "$out"
log="$out/shards-$(date -u +%Y%m%dT%H%M%SZ).txt"
exec 2> >(tee -a "$log" >&2)
trap '"$here/down.sh"; rm -rf "$work"' EXIT

ferry() { ip netns exec "$SCALE_NS" nice -n "$SCALE_NICE" "$FERRY" "$@"; }
# A 60 s connect timeout: on two shared cores a handshake can wait long.
deploy=(deploy -i "$SCALE_DIR/inventory.yml" --roles-path "$here/roles" --output json --timeout 60s)
fail() { echo "shards: FAIL: $*" >&2; exit 1; }
# same A B: the two recap files are equal but for duration_ms.
same() { diff <(tail -n 1 "$1" | jq -S 'del(.duration_ms)') <(tail -n 1 "$2" | jq -S 'del(.duration_ms)') >"$work/diff" || { head -20 "$work/diff" >&2; false; }; }

# shards MODE VALUE: the K shards at once with -e scale_change=VALUE;
# their outputs in $work/MODE-I.json.
shards() {
	local mode=$1 pids=() files=() i rc
	local extra=(-e "scale_change=$2"); [ "$mode" = check ] && extra+=(--check)
	for i in $(seq 1 "$k"); do
		ferry "${deploy[@]}" "${extra[@]}" --shard "$i/$k" >"$work/$mode-$i.json" 2>"$work/$mode-$i.err" &
		pids+=($!) files+=("$work/$mode-$i.json")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { rc=$?; fail "shard $((i + 1))/$k ($mode) exited $rc: $(tail -2 "$work/$mode-$((i + 1)).err")"; }
	done
	# Every host in exactly one shard.
	cat "${files[@]}" | jq -r 'select(.event == "recap") | .hosts | keys[]' | sort >"$work/$mode-hosts"
	local dups total; dups=$(uniq -d "$work/$mode-hosts" | wc -l); total=$(wc -l <"$work/$mode-hosts")
	((dups == 0)) || fail "$mode: $dups hosts in more than one shard"
	((total == n)) || fail "$mode: the shards hold $total hosts, want $n"
	echo "  $mode: $k shards hold $total hosts, each exactly once ($(for i in $(seq 1 "$k"); do tail -n 1 "$work/$mode-$i.json" | jq '.hosts | length'; done | paste -sd/) hosts)" >&2
	ferry recap merge --output json "${files[@]}" >"$work/$mode-merged.json" || fail "$mode: recap merge exited $?"
}

echo "shards: $n hosts, $k shards, $("$FERRY" version 2>/dev/null | head -n 1), $(date -u)" >&2
"$here/up.sh" "$n"

# 0. Converge.
ferry "${deploy[@]}" -e scale_change=s0 >"$work/prep.json" || fail "the first run exited $?"

# 1. Check mode: one run, then the shards.
ferry "${deploy[@]}" -e scale_change=s1 --check >"$work/whole-check.json" || fail "one check run exited $?"
shards check s1
same "$work/check-merged.json" "$work/whole-check.json" || fail "merged check recap differs from one run's"
echo "  check: merged recap = one run's recap ($(tail -n 1 "$work/whole-check.json" | jq -c '{changed, failed, unreachable}'))" >&2

# 2. Real runs: the shards, then one run making the same kind of change.
shards apply s1
ferry "${deploy[@]}" -e scale_change=s2 >"$work/whole-apply.json" || fail "one real run exited $?"
same "$work/apply-merged.json" "$work/whole-apply.json" || fail "merged recap of the real shards differs from one real run's"
echo "  apply: merged recap = one run's recap ($(tail -n 1 "$work/whole-apply.json" | jq -c '{changed, failed, unreachable}'))" >&2

# 3. Nothing left to change.
ferry "${deploy[@]}" -e scale_change=s2 >"$work/noop.json" || fail "no-op run exited $?"
[ "$(tail -n 1 "$work/noop.json" | jq '[.changed, (.hosts | length)] | @csv' -r)" = "0,$n" ] || fail "a run after the shards changed something"
echo "  no-op: one run after the shards changes nothing on $n hosts" >&2
echo "shards: OK" >&2
