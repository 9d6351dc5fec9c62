#!/usr/bin/env bash
# bench/run.sh (what `make bench` runs, after `make build`): ferry side by
# side with Ansible on the six-host seed stack, then ferry's scale lab.
#
#   ROUNDS=3          rounds; each round runs ferry, then Ansible, each on a
#                     fresh lab under the shared lab lock (one hold per tool
#                     and round, well under 15 minutes), lab left down.
#   SCALE=1           also run bench/scale/run.sh (SIZES="10 100 500 1000", ROUNDS=5).
#   SEED=1            run the seed comparison (0 to run the scale lab only).
#   FERRY=/tmp/ferry-bench   the binary measured (copied from bin/ferry,
#                     because others rebuild bin/ferry while this runs).
#
# Writes a markdown table to stdout and bench/results/seed-<stamp>.md
# (raw rows in .tsv, every run's output under bench/results/logs-<stamp>/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" # sets repo
ROUNDS=${ROUNDS:-3}
SCALE=${SCALE:-1}
SEED=${SEED:-1}
export FERRY=${FERRY:-/tmp/ferry-bench}
LOCK=/run/ferry-lab-session.lock
[ "$(id -u)" = 0 ] || { echo "bench: needs root (the labs)" >&2; exit 3; }

# Tools: Debian's Ansible (ansible-core, and the ansible package for the
# community.general.ufw module), GNU time, jq, gnuplot for the scale plot.
pkgs=()
command -v ansible-playbook >/dev/null || pkgs+=(ansible-core)
# (ansible-doc exits 0 for a module it cannot find: ask for the collection's folder)
[ -d /usr/lib/python3/dist-packages/ansible_collections/community/general ] || pkgs+=(ansible)
[ -x /usr/bin/time ] || pkgs+=(time)
command -v jq >/dev/null || pkgs+=(jq)
command -v gnuplot >/dev/null || pkgs+=(gnuplot-nox)
[ -x /usr/sbin/sshd ] || pkgs+=(openssh-server)
if [ ${#pkgs[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null
fi

install -m 0755 "$repo/bin/ferry" "$FERRY"
commit=$(git -C "$repo" rev-parse --short HEAD)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$here/results"; mkdir -p "$out"
raw="$out/seed-$stamp.tsv"
export LOGS="$out/logs-$stamp"
mkdir -p "$LOGS"

if [ "$SEED" = 1 ]; then
	: >"$raw"
	for r in $(seq 1 "$ROUNDS"); do
		for tool in ferry ansible; do
			echo "bench: round $r, $tool (waiting for the lab lock)" >&2
			# -o: the lab's daemons (nspawn, the apt proxy) must not inherit
			# the lock's descriptor, or the lock outlives this hold.
			flock -o "$LOCK" "$here/lab-round.sh" "$tool" "$r" "$raw" ||
				{ echo "bench: round $r of $tool failed (logs in $LOGS)" >&2; exit 1; }
		done
	done

	md="$out/seed-$stamp.md"
	{
		echo "### Seed stack, six lab hosts: ferry vs Ansible ($ROUNDS rounds, ferry $commit, $(ansible --version | head -1 | tr -d '[]'))"
		echo
		echo "| run | ferry median (min–max) s | Ansible median (min–max) s | Ansible / ferry | changed (ferry / Ansible) | ferry SSH round trips / task |"
		echo "| --- | --- | --- | ---: | --- | ---: |"
		for phase in converge noop change; do
			sel() { awk -F'\t' -v t="$1" -v p="$phase" -v c="$2" '$1==t && $3==p {print $c}' "$raw"; }
			sel ferry 4 >"$LOGS/col"; read -r fm fl fh < <(stats "$LOGS/col")
			sel ansible 4 >"$LOGS/col"; read -r am al ah < <(stats "$LOGS/col")
			fc=$(sel ferry 5 | sort -u | paste -sd/); ac=$(sel ansible 5 | sort -u | paste -sd/)
			rpt=$(awk -F'\t' -v p="$phase" '$1=="ferry" && $3==p && $7>0 {a+=$6; b+=$7} END {if (b) printf "%.2f", a/b; else print "-"}' "$raw")
			ratio=$(awk -v a="$am" -v f="$fm" 'BEGIN {if (f>0) printf "%.1f×", a/f; else print "-"}')
			case $phase in converge) name="full converge, fresh hosts" ;; noop) name="no-op re-run" ;; change) name="one file on both web servers (nginx.conf + reload)" ;; esac
			echo "| $name | $fm ($fl–$fh) | $am ($al–$ah) | $ratio | $fc / $ac | $rpt |"
		done
	} | tee "$md"
fi

if [ "$SCALE" = 1 ]; then
	RESULTS="$out" "$here/scale/run.sh"
fi
