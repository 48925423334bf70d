#!/usr/bin/env bash
# Every scenario in one invocation, so that the ratios in the report come from the same run, then
# the report itself: bench/out/RESULTS.md (bench/RESULTS.md holds the reference run's copy).
#   bash bench/all.sh            # the reference run (10 to 12 minutes after the build)
#   bash bench/all.sh --smoke    # every scenario, shortened: under two minutes after the build
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
[ -z "$mode" ] || [ "$mode" = "--smoke" ] || { echo "usage: bash bench/all.sh [--smoke]" >&2; exit 2; }
rm -f bench/out/*.json bench/out/*.jsonl
start=$SECONDS
for scenario in http peer sql mix ws reports fuzz profile; do
    echo "######## bench/$scenario.sh $mode ($((SECONDS - start)) s so far)"
    bash "bench/$scenario.sh" $mode
done
python3 bench/results.py $mode >bench/out/RESULTS.md
echo "######## done in $((SECONDS - start)) s: bench/out/RESULTS.md"
