#!/usr/bin/env bash
# Compares two runs of one config: the same artifact keys, the same SHA-256 for every file of every manifest,
# and identical results directories. Usage: compare-runs.sh CACHE_A RESULTS_A CACHE_B RESULTS_B
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 CACHE_A RESULTS_A CACHE_B RESULTS_B" >&2; exit 2; }
# one line per file: stage/key file sha256 (creation times and durations differ between runs by design)
hashes() {
  # published artifacts only: <stage>/<64 hex key>/manifest.json (not temporary directories)
  find "$1" -mindepth 3 -maxdepth 3 -regextype posix-extended -regex '.*/[0-9a-f]{64}/manifest\.json' -print0 | sort -z |
    xargs -0 -r jq -r '.stage as $s | .key as $k | .files[] | "\($s)/\($k) \(.name) \(.sha256)"' |
    # report.html records each run's own unit times and creation dates (the one output that differs by design);
    # only its presence is compared
    sed -E 's/^(.* report\.html) [0-9a-f]{64}$/\1 (run-specific)/' | sort
}
a=$(hashes "$1"); b=$(hashes "$3")
[ -n "$a" ] || { echo "compare-runs: no manifests in $1" >&2; exit 1; }
if [ "$a" != "$b" ]; then
  echo "compare-runs: artifacts of $1 and $3 differ:" >&2
  diff <(echo "$a") <(echo "$b") >&2 || true
  exit 1
fi
diff -r -x report.html "$2" "$4" >&2 || { echo "compare-runs: results $2 and $4 differ" >&2; exit 1; }
if [ -e "$2/report.html" ] && [ ! -s "$4/report.html" ]; then echo "compare-runs: $4/report.html is missing or empty" >&2; exit 1; fi
echo "compare-runs: $(echo "$a" | cut -d' ' -f1 | sort -u | wc -l) artifacts, $(echo "$a" | wc -l) files and $(ls "$2" | wc -l) result files identical"
