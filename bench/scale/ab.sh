#!/usr/bin/env bash
# bench/scale/ab.sh: two ferry binaries, BEFORE and AFTER, on the same scale
# lab in one session, so that the machine's load hits both alike. For each
# N in $SIZES: the lab up (up.sh), one untimed converge, then $ROUNDS rounds
# in which each binary (in alternating order) changes one templated file on
# every host and then runs the same deploy again as a no-op. Each run is one
# TSV row on stdout and in $OUT/raw.tsv:
#   label N kind round wall_s ferry_cpu_s peak_rss_mb max_round_trips_per_host hosts_cpu_s
# (hosts' CPU from the scale lab's cpuacct cgroup, as run.sh). The lab is
# always torn down.
#   BEFORE=/tmp/ferry-old AFTER=bin/ferry SIZES="100 1000" ROUNDS=3 bench/scale/ab.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../lib.sh"
BEFORE=${BEFORE:?BEFORE names the ferry binary to compare with}
AFTER=${AFTER:?AFTER names the ferry binary under test}
SIZES=${SIZES:-100}
ROUNDS=${ROUNDS:-5}
out=${OUT:-$repo/bench/results/scale-ab-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
need_pkg jq jq
need_pkg bc bc
need_pkg /usr/bin/time time
trap '"$here/down.sh" >/dev/null 2>&1' EXIT

# one LABEL BINARY N KIND ROUND ARGS...: one measured ferry run.
one() {
	local label=$1 bin=$2 n=$3 kind=$4 r=$5
	shift 5
	local log="$out/$label-$n-$kind-$r.json" h0 h1 t0 wall u s m rt
	h0=$(scale_hosts_cpu)
	t0=$(now)
	ip netns exec "$SCALE_NS" nice -n "$SCALE_NICE" /usr/bin/time -f '%U %S %M' -o "$out/time" "$bin" "$@" >"$log" 2>"$out/stderr" ||
		{ echo "ab: $label N=$n $kind #$r failed:" >&2; tail -n 3 "$out/stderr" >&2; }
	wall=$(elapsed "$t0")
	h1=$(scale_hosts_cpu)
	read -r u s m <"$out/time"
	rt=$(tail -n 1 "$log" | jq '[.hosts[] | .round_trips] | max')
	printf '%s\t%s\t%s\t%s\t%s\t%.2f\t%.1f\t%s\t%.2f\n' "$label" "$n" "$kind" "$r" "$wall" \
		"$(echo "$u + $s" | bc)" "$(echo "$m / 1024" | bc -l)" "$rt" "$(echo "(${h1:-0} - ${h0:-0}) / 1000000000" | bc -l)" |
		tee -a "$out/raw.tsv"
}

for n in $SIZES; do
	"$here/up.sh" "$n" >/dev/null
	deploy=(deploy -i "$SCALE_DIR/inventory.yml" --output json --timeout 60s --roles-path "$here/roles")
	one converge "$AFTER" "$n" converge 0 "${deploy[@]}" -e scale_change=r0 >/dev/null
	for r in $(seq 1 "$ROUNDS"); do
		order="before after"
		[ $((r % 2)) = 0 ] && order="after before"
		for label in $order; do
			bin=$BEFORE
			[ "$label" = after ] && bin=$AFTER
			one "$label" "$bin" "$n" change "$r" "${deploy[@]}" -e "scale_change=$label$r"
			one "$label" "$bin" "$n" noop "$r" "${deploy[@]}" -e "scale_change=$label$r"
		done
	done
	"$here/down.sh" >/dev/null
done
