#!/bin/sh
# collect.sh [JOB]: wait for the Indexed Job (job.yaml) to end, save each
# shard's output (its pod's log: the JSON stream, stderr lines are skipped
# by the merge) and merge them: prints one recap and exits with the code
# one deploy of every host would have had.
set -eu
job=${1:-ferry-deploy}
shards=$(kubectl get job "$job" -o jsonpath='{.spec.completions}')
# Complete, or Failed: with backoffLimitPerIndex the Job fails only once
# every index has ended, so either way all shards are done.
until kubectl get job "$job" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{"\n"}{end}' |
	grep -qx -e Complete -e Failed; do
	sleep 10
done
dir=$(mktemp -d)
i=0
while [ "$i" -lt "$shards" ]; do
	pod=$(kubectl get pods -l "job-name=$job,batch.kubernetes.io/job-completion-index=$i" \
		-o jsonpath='{.items[-1:].metadata.name}')
	kubectl logs "$pod" >"$dir/shard-$((i + 1)).json"
	i=$((i + 1))
done
exec ferry recap merge "$dir"/shard-*.json
