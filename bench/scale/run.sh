#!/usr/bin/env bash
# bench/scale/run.sh: ferry against N lightweight SSH hosts (bench/scale/up.sh)
# with the 20-task role bench/scale/roles/scale, for each N in $SIZES.
# Per N: one untimed converge, then $ROUNDS rounds of
#   change: -e scale_change=rK changes one templated file on every host;
#   no-op:  the same -e again, so nothing changes.
# Each run is measured as one process under /usr/bin/time (wall, user+sys
# CPU, peak RSS of ferry) inside the scale namespace; round trips per task
# come from ferry's JSON recap. Results: a markdown table on stdout and in
# bench/results/scale-*.md (+ .tsv, and a PNG plot when gnuplot is there).
# The scale lab is always torn down (trap), whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
. "$here/../lib.sh"

FERRY=${FERRY:-/tmp/ferry-bench}
SIZES=${SIZES:-10 50 100 200}
ROUNDS=${ROUNDS:-3}
FORKS=${FORKS:-}          # empty: ferry's default (50)
out=${RESULTS:-$repo/bench/results}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d /tmp/ferry-scale-bench.XXXXXX)
trap '"$here/down.sh"; rm -rf "$work"' EXIT
[ -x "$FERRY" ] || { echo "scale: $FERRY not found (copy bin/ferry there)" >&2; exit 3; }
need_pkg jq jq
mkdir -p "$out"

forks=()
[ -n "$FORKS" ] && forks=(--forks "$FORKS")

# run_ferry LABEL EXTRA...: one measured deploy; appends a TSV row to
# $work/raw.tsv: n kind round wall cpu rss_mb round_trips tasks changed.
run_ferry() {
	local kind=$1 round=$2; shift 2
	local log="$work/$n-$kind-$round.json" tf="$work/time"
	local c0 t0; c0=$(cpu_busy); t0=$(now)
	if ! ip netns exec "$SCALE_NS" /usr/bin/time -f '%U %S %M' -o "$tf" \
		"$FERRY" deploy -i "$SCALE_DIR/inventory.yml" --roles-path "$here/roles" \
		--output json "${forks[@]}" "$@" >"$log" 2>"$work/stderr"; then
		echo "scale: ferry failed (N=$n $kind $round):" >&2; tail -5 "$work/stderr" "$log" >&2; exit 1
	fi
	local wall; wall=$(elapsed "$t0")
	local c1; c1=$(cpu_busy)
	read -r u s m <"$tf"
	# Everything else the machine did meanwhile: mostly the hosts' side
	# (sshd sessions and their shells, which share this machine's cores).
	local other; other=$(awk -v a="$c0" -v b="$c1" -v u="$u" -v s="$s" 'BEGIN{v=b-a-u-s; if (v<0) v=0; printf "%.2f", v}')
	read -r rt tasks changed failed unreach < <(recap_rt "$log")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$kind" "$round" "$wall" \
		"$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')" "$(awk -v m="$m" 'BEGIN{printf "%.1f", m/1024}')" \
		"$rt" "$tasks" "$changed" "$other" >>"$work/raw.tsv"
	echo "  N=$n $kind #$round: ${wall}s cpu $(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')s rss $((m/1024))MB rt/task $(awk -v a="$rt" -v b="$tasks" 'BEGIN{printf "%.2f", a/b}') changed $changed hosts-cpu ${other}s" >&2
}

: >"$work/raw.tsv"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $SIZES; do
	echo "scale: N=$n" >&2
	"$here/up.sh" "$n"
	run_ferry converge 0 -e scale_change=r0
	for r in $(seq 1 "$ROUNDS"); do
		run_ferry change "$r" -e "scale_change=r$r"
		run_ferry noop "$r" -e "scale_change=r$r"
	done
	"$here/down.sh"
done

# Summary: per N and kind, median (min-max) of wall, CPU, RSS; rt/task.
summ="$out/scale-$stamp.tsv"
{
	printf 'n\tkind\twall_med\twall_min\twall_max\tcpu_med\trss_med_mb\trss_max_mb\trt_per_task\tchanged_med\thosts_cpu_med\n'
	for n in $SIZES; do
		for kind in noop change; do
			col() { awk -F'\t' -v n="$n" -v k="$kind" -v c="$1" '$1==n && $2==k {print $c}' "$work/raw.tsv" >"$work/col"; stats "$work/col"; }
			read -r wm wl wh < <(col 4); read -r cm _ _ < <(col 5); read -r rm _ rh < <(col 6)
			read -r chm _ _ < <(col 9); read -r om _ _ < <(col 10)
			rpt=$(awk -F'\t' -v n="$n" -v k="$kind" '$1==n && $2==k {a+=$7; b+=$8} END {printf "%.2f", a/b}' "$work/raw.tsv")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$kind" "$wm" "$wl" "$wh" "$cm" "$rm" "$rh" "$rpt" "$chm" "$om"
		done
	done
} >"$summ"
cp "$work/raw.tsv" "$out/scale-$stamp.raw.tsv"

md="$out/scale-$stamp.md"
{
	echo "### Scale: ferry, N hosts x 20 tasks ($ROUNDS rounds, forks ${FORKS:-50 (default)}, $(git -C "$repo" rev-parse --short HEAD))"
	echo
	echo "Machine load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, shared with the hosts' sshd)."
	echo
	echo "| N | run | wall median (min–max) s | ferry CPU user+sys s | peak RSS MB median (max) | SSH round trips / task | changed | hosts' side CPU s (sshd+shells, same machine) |"
	echo "| ---: | --- | --- | ---: | --- | ---: | ---: | ---: |"
	tail -n +2 "$summ" | while IFS=$'\t' read -r n kind wm wl wh cm rm rh rpt chm om; do
		echo "| $n | $kind | $wm ($wl–$wh) | $cm | $rm ($rh) | $rpt | $chm | $om |"
	done
} | tee "$md"

if command -v gnuplot >/dev/null; then
	png="$out/scale-$stamp.png"
	awk -F'\t' 'NR>1 && $2=="noop" {print $1, $3, $6, $7, $11}' "$summ" >"$work/noop.dat"
	awk -F'\t' 'NR>1 && $2=="change" {print $1, $3, $6, $7, $11}' "$summ" >"$work/change.dat"
	gnuplot <<GP
set terminal pngcairo size 1000,420 font ",10"
set output "$png"
set multiplot layout 1,2 title "ferry scale lab: N hosts x 20 tasks (median of $ROUNDS)"
set xlabel "hosts"; set grid
set ylabel "seconds"
set key top left
plot "$work/noop.dat" u 1:2 w lp t "no-op wall", "$work/change.dat" u 1:2 w lp t "one change/host wall", \
     "$work/noop.dat" u 1:3 w lp t "no-op ferry CPU (user+sys)", "$work/change.dat" u 1:3 w lp t "change ferry CPU", \
     "$work/noop.dat" u 1:5 w lp dt 2 t "no-op hosts' sshd+shell CPU", "$work/change.dat" u 1:5 w lp dt 2 t "change hosts' CPU"
set ylabel "MB"
plot "$work/noop.dat" u 1:4 w lp t "no-op peak RSS", "$work/change.dat" u 1:4 w lp t "change peak RSS"
unset multiplot
GP
	echo >>"$md"; echo "![scale plot]($(basename "$png"))" >>"$md"
	echo "plot: $png" >&2
fi
echo "scale: results in $md" >&2
