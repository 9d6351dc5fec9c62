# Helpers shared by bench/run.sh and bench/scale/run.sh.

# repo is the repository's root, the folder above this file's.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# stats FILE: "median min max" of the numbers in FILE (one per line).
stats() {
	sort -g "$1" | awk '{v[NR]=$1} END {
		if (NR == 0) { print "- - -"; exit }
		m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
		printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

# now: seconds since the epoch, nanosecond resolution.
now() { date +%s.%N; }

# elapsed START: seconds since START (from now), two decimals... kept at 3.
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", e - s }'; }

# recap_rt FILE: "round_trips tasks changed failed unreachable" summed over
# the hosts of ferry's JSON recap (the last line of FILE).
recap_rt() {
	tail -n 1 "$1" | jq -r '[.hosts[] | .round_trips] as $r | [.hosts[] | .tasks] as $t |
		"\($r | add) \($t | add) \(.changed) \(.failed) \(.unreachable)"'
}

# need_pkg CMD PKG: install PKG with apt-get unless CMD is found.
need_pkg() {
	command -v "$1" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
}

# cpu_busy: seconds of CPU the whole machine has spent busy so far (user,
# nice, system, irq, softirq of every core), from /proc/stat.
cpu_busy() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8) / hz; exit }' /proc/stat
}

# lab_converged FERRY INV OUT: boots the lab (taken down again when the
# script exits), converges INV and runs it once more, untimed; logs in OUT/logs.
lab_converged() {
	local inv=$2 out=$3
	_lab_ferry=$1 _lab_log=$3/logs/lab.log
	trap '"$_lab_ferry" lab down >>"$_lab_log" 2>&1 || echo "lab down failed; see $_lab_log" >&2' EXIT
	"$_lab_ferry" lab up >>"$_lab_log" 2>&1 || { echo "lab up failed; see $_lab_log" >&2; exit 1; }
	"$_lab_ferry" deploy -i "$inv" --output json >"$out/logs/converge.log" 2>&1 || { echo "converge failed; see $out/logs/converge.log" >&2; exit 1; }
	"$_lab_ferry" deploy -i "$inv" --output json >"$out/logs/warm.log" 2>&1
}
