#!/usr/bin/env bash
# bench/scale/run.sh: ferry against N lightweight SSH hosts (bench/scale/up.sh)
# with the 20-task role bench/scale/roles/scale, for each N in $SIZES.
# Per N: one untimed converge, then $ROUNDS rounds of
#   change: -e scale_change=rK changes one templated file on every host;
#   no-op:  the same -e again, so nothing changes;
#   run:    `ferry run scale -- true`, one ad-hoc command on every host.
# Each run is measured as one process under /usr/bin/time (wall, user+sys
# CPU, peak RSS of ferry) inside the scale namespace; the hosts' side CPU is
# the cpuacct cgroup of their sshds (lib.sh); SSH round trips per host come
# from ferry's JSON output. Results: a markdown table on stdout and in
# bench/results/scale-*.md (+ .tsv, raw .tsv, and a PNG plot by gnuplot).
# The raw rows are written as they are measured, so an interrupted run keeps
# them; `run.sh --report RAW.tsv...` makes the table and plot from raw files
# (of one run, or of runs at different sizes).
# The scale lab is always torn down (trap), whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
. "$here/../lib.sh"

FERRY=${FERRY:-/tmp/ferry-bench}
SIZES=${SIZES:-10 100 500 1000}
ROUNDS=${ROUNDS:-5}
FORKS=${FORKS:-}          # empty: ferry's default (50)
# Connect timeout: with 1000 hosts on two shared cores a handshake can wait
# long for CPU; a benchmark measures the time, it should not fail on it.
TIMEOUT=${TIMEOUT:-60s}
LABEL=${LABEL:-}          # a word for the title (e.g. the engine's version)
out=${RESULTS:-$repo/bench/results}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d /tmp/ferry-scale-bench.XXXXXX)
need_pkg jq jq
need_pkg gnuplot gnuplot-nox
need_pkg /usr/bin/time time
mkdir -p "$out"
raw="$out/scale-$stamp.raw.tsv"

forks=()
[ -n "$FORKS" ] && forks=(--forks "$FORKS")

# run_ferry KIND ROUND ARGS...: one measured ferry; appends a TSV row to
# $work/raw.tsv: n kind round wall cpu rss_mb round_trips tasks changed
# hosts_cpu hosts.
run_ferry() {
	local kind=$1 round=$2; shift 2
	local log="$work/$n-$kind-$round.json" tf="$work/time"
	local h0 c0 t0; h0=$(scale_hosts_cpu); c0=$(cpu_busy); t0=$(now)
	if ! ip netns exec "$SCALE_NS" nice -n "$SCALE_NICE" /usr/bin/time -f '%U %S %M' -o "$tf" \
		"$FERRY" "$@" >"$log" 2>"$work/stderr"; then
		cp "$log" "$out/scale-$stamp-failed-$n-$kind-$round.json"; cp "$work/stderr" "$out/scale-$stamp-failed-$n-$kind-$round.stderr"
		echo "scale: ferry failed (N=$n $kind $round), output kept in $out/scale-$stamp-failed-$n-$kind-$round.*:" >&2
		tail -n 5 "$work/stderr" >&2; tail -n 1 "$log" | jq -c '{changed, failed, unreachable}' >&2; exit 1
	fi
	local wall; wall=$(elapsed "$t0")
	local c1 h1; c1=$(cpu_busy); h1=$(scale_hosts_cpu)
	local u s m; read -r u s m <"$tf"
	local hosts_cpu
	if [ -n "$h0" ] && [ -n "$h1" ]; then
		hosts_cpu=$(awk -v a="$h0" -v b="$h1" 'BEGIN{printf "%.2f", (b-a)/1e9}')
	else
		# No cgroup: everything else the machine did meanwhile (the hosts'
		# sshds, but also any other work on this machine).
		hosts_cpu=$(awk -v a="$c0" -v b="$c1" -v u="$u" -v s="$s" 'BEGIN{v=b-a-u-s; if (v<0) v=0; printf "%.2f", v}')
	fi
	local rt tasks changed nhosts
	if [ "$kind" = run ]; then
		read -r rt tasks changed nhosts < <(jq -rs '[.[] | select(.event != "recap")] |
			"\(map(.round_trips // 0) | add) \(length) 0 \(length)"' "$log")
	else
		read -r rt tasks changed nhosts < <(tail -n 1 "$log" | jq -r '[.hosts[]] as $h |
			"\($h | map(.round_trips) | add) \($h | map(.tasks) | add) \(.changed) \($h | length)"')
	fi
	[ "$nhosts" = "$n" ] || { echo "scale: N=$n $kind: ferry reported $nhosts hosts" >&2; exit 1; }
	local cpu; cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$kind" "$round" "$wall" "$cpu" \
		"$(awk -v m="$m" 'BEGIN{printf "%.1f", m/1024}')" "$rt" "$tasks" "$changed" "$hosts_cpu" "$nhosts" >>"$raw"
	echo "  N=$n $kind #$round: ${wall}s cpu ${cpu}s rss $((m/1024))MB rt/host $(awk -v a="$rt" -v b="$n" 'BEGIN{printf "%.1f", a/b}') changed $changed hosts-cpu ${hosts_cpu}s" >&2
}

if [ "${1:-}" = --report ]; then
	shift
	(($#)) || { echo "usage: run.sh --report RAW.tsv..." >&2; exit 3; }
	cat "$@" >"$work/raw.tsv"
	SIZES=$(cut -f1 "$work/raw.tsv" | sort -nu | paste -sd' ')
	ROUNDS=$(awk -F'\t' '$2=="noop"' "$work/raw.tsv" | cut -f3 | sort -nu | wc -l)
	load0= rev=; trap 'rm -rf "$work"' EXIT
else
	trap '"$here/down.sh"; rm -rf "$work"' EXIT
	[ -x "$FERRY" ] || { echo "scale: $FERRY not found (copy bin/ferry there)" >&2; exit 3; }
	load0=$(cut -d' ' -f1-3 /proc/loadavg) rev=", $(git -C "$repo" rev-parse --short HEAD)"
	common=(-i "$SCALE_DIR/inventory.yml" --output json --timeout "$TIMEOUT" "${forks[@]}")
	deploy=(deploy "${common[@]}" --roles-path "$here/roles")
	for n in $SIZES; do
		echo "scale: N=$n" >&2
		"$here/up.sh" "$n"
		run_ferry converge 0 "${deploy[@]}" -e scale_change=r0
		for r in $(seq 1 "$ROUNDS"); do
			run_ferry change "$r" "${deploy[@]}" -e "scale_change=r$r"
			run_ferry noop "$r" "${deploy[@]}" -e "scale_change=r$r"
			run_ferry run "$r" run scale "${common[@]}" -- true
		done
		"$here/down.sh"
	done
	cp "$raw" "$work/raw.tsv"
fi

# Summary: per N and kind, median (min-max) of wall, CPU, RSS, hosts' CPU;
# round trips per host.
summ="$out/scale-$stamp.tsv"
{
	printf 'n\tkind\twall_med\twall_min\twall_max\tcpu_med\tcpu_min\tcpu_max\trss_med_mb\trss_max_mb\trt_per_host\tchanged_med\thosts_cpu_med\thosts_cpu_min\thosts_cpu_max\n'
	for n in $SIZES; do
		for kind in noop change run; do
			runs=$(awk -F'\t' -v n="$n" -v k="$kind" '$1==n && $2==k' "$work/raw.tsv" | wc -l)
			((runs > 0)) || continue
			col() { awk -F'\t' -v n="$n" -v k="$kind" -v c="$1" '$1==n && $2==k {print $c}' "$work/raw.tsv" >"$work/col"; stats "$work/col"; }
			read -r wm wl wh < <(col 4); read -r cm cl ch < <(col 5); read -r rm _ rh < <(col 6)
			read -r chm _ _ < <(col 9); read -r om ol oh < <(col 10)
			rph=$(awk -F'\t' -v n="$n" -v k="$kind" '$1==n && $2==k {a+=$7; b+=$11} END {printf "%.2f", a/b}' "$work/raw.tsv")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$kind" "$wm" "$wl" "$wh" "$cm" "$cl" "$ch" "$rm" "$rh" "$rph" "$chm" "$om" "$ol" "$oh" "$runs"
		done
	done
} >"$summ"

hostscpu="cpuacct cgroup of the hosts' sshds"
[ -n "$(scale_hosts_cpu)" ] || [ -d "${SCALE_CGROUP%/*}" ] || hostscpu="machine busy CPU minus ferry's (no cpuacct cgroup: includes other work)"
md="$out/scale-$stamp.md"
png="$out/scale-$stamp.png"
{
	echo "### Scale: ferry, N hosts x 20 tasks${LABEL:+, $LABEL} (forks ${FORKS:-50 (default)}$rev, $stamp)"
	echo
	[ -z "$load0" ] || echo "Machine load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, shared with the hosts' sshds and other work; ferry and sshds at nice $SCALE_NICE)."
	echo "Hosts' side CPU: $hostscpu."
	echo
	echo "| N | run | runs | wall s median (min–max) | ferry CPU s median (min–max) | ferry peak RSS MB median (max) | SSH round trips / host | changed | hosts' side CPU s median (min–max) |"
	echo "| ---: | --- | ---: | --- | --- | --- | ---: | ---: | --- |"
	tail -n +2 "$summ" | while IFS=$'\t' read -r n kind wm wl wh cm cl ch rm rh rph chm om ol oh runs; do
		echo "| $n | $kind | $runs | $wm ($wl–$wh) | $cm ($cl–$ch) | $rm ($rh) | $rph | $chm | $om ($ol–$oh) |"
	done
	echo
	echo "![scale plot]($(basename "$png"))"
} | tee "$md"

for kind in noop change run; do
	awk -F'\t' -v k="$kind" 'NR>1 && $2==k {print $1, $3, $4, $5, $6, $7, $8, $9, $10, $13, $14, $15}' "$summ" >"$work/$kind.dat"
done
# Columns of the .dat files: 1 N, 2-4 wall med/min/max, 5-7 ferry CPU
# med/min/max, 8-9 RSS med/max, 10-12 hosts' CPU med/min/max.
gnuplot <<GP
set terminal pngcairo size 1500,460 font ",10"
set output "$png"
set multiplot layout 1,3 title "ferry scale lab: N hosts x 20 tasks, ${LABEL:+$LABEL, }median and min-max$rev"
set xlabel "hosts"; set grid; set logscale x; set xrange [6:1600]; set xtics (10, 100, 500, 1000)
set key top left
set logscale y; set ylabel "wall seconds"; set title "wall time"
plot "$work/noop.dat" u 1:2:3:4 w yerrorlines t "no-op", \
     "$work/change.dat" u 1:2:3:4 w yerrorlines t "one file changed per host", \
     "$work/run.dat" u 1:2:3:4 w yerrorlines t "ferry run -- true"
set ylabel "CPU seconds (user+sys)"; set title "CPU: ferry (solid), hosts' sshds and shells (dashed)"
plot "$work/noop.dat" u 1:5:6:7 w yerrorlines lc 1 t "no-op ferry", \
     "$work/change.dat" u 1:5:6:7 w yerrorlines lc 2 t "change ferry", \
     "$work/run.dat" u 1:5:6:7 w yerrorlines lc 3 t "run ferry", \
     "$work/noop.dat" u 1:10:11:12 w yerrorlines lc 1 dt 2 t "no-op hosts", \
     "$work/change.dat" u 1:10:11:12 w yerrorlines lc 2 dt 2 t "change hosts", \
     "$work/run.dat" u 1:10:11:12 w yerrorlines lc 3 dt 2 t "run hosts"
unset logscale y; set ylabel "MB"; set title "ferry peak RSS (median, max)"
plot "$work/noop.dat" u 1:8:8:9 w yerrorlines t "no-op", \
     "$work/change.dat" u 1:8:8:9 w yerrorlines t "change", \
     "$work/run.dat" u 1:8:8:9 w yerrorlines t "run"
unset multiplot
GP
echo "scale: results in $md, plot $png" >&2
