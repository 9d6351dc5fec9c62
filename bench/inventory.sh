#!/usr/bin/env bash
# bench/inventory.sh (make bench-inventory): how long resolving a
# 10,000-host inventory takes. ferry: BenchmarkLoad10k (package inventory):
# an INI file of ranges, [group:vars], children, group_vars/ and host_vars/,
# loaded and resolved (every host's variables and connection). Then
# ansible-inventory --list on the same files, when it is installed.
#
#   COUNT=5   benchmark runs (10 loads each); the median is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
FERRY_BENCH_DIR=$dir go test ./inventory -run '^$' -bench '^BenchmarkLoad10k$' -benchtime 10x -count "$COUNT" | tee "$dir/bench.txt"
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
wall=$(awk '/^BenchmarkLoad10k/ {print $3/1e6}' "$dir/bench.txt" | median)
cpu=$(awk '/^BenchmarkLoad10k/ {for (i=1; i<NF; i++) if ($(i+1) == "cpu-ms/op") print $i}' "$dir/bench.txt" | median)
echo "ferry: median ${wall%.*} ms wall, ${cpu} ms CPU per load of 10,000 hosts ($COUNT runs)"
if command -v ansible-inventory >/dev/null; then
	for i in 1 2 3; do
		start=$(date +%s.%N)
		(cd "$dir" && HOME=$dir ansible-inventory -i hosts.ini --list >/dev/null)
		echo "$(date +%s.%N) $start" | awk '{printf "%.2f\n", $1-$2}'
	done | sort -n | awk '{v[NR]=$1} END {printf "ansible-inventory --list: median %.2f s (%d runs)\n", v[int((NR+1)/2)], NR}'
fi
