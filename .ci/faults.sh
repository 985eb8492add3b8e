#!/usr/bin/env bash
# Fault-injection suite (docs/RELIABILITY.md): kill -9 at seeded moments of every stage, byte flips and truncations
# in every artifact kind (mtime restored), a full disk, concurrent runs and cleans, bad YAML. After each fault:
# nothing partial is published (`pgig verify` passes or names the damage), a rerun completes, and the results and
# every artifact's file hashes equal an uninterrupted run's.
# Usage: .ci/faults.sh [workdir]   (FAULT_SEED, FAULT_KILLS override the defaults: seed 1, 20 kills)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${1:-$(mktemp -d /tmp/pgig-faults-XXXXXX)}
mkdir -p "$work"
seed=${FAULT_SEED:-1}
kills=${FAULT_KILLS:-20}
PG="$root/pgig"
RANDOM=$seed
injected=0 survived=0 lost=0
declare -a table

record() { # kind, detail, ok(0/1)
  injected=$((injected + 1))
  if [ "$3" = 0 ]; then survived=$((survived + 1)); else lost=$((lost + 1)); echo "FAULT NOT SURVIVED: $1 $2" >&2; fi
  table+=("$1|$2|$([ "$3" = 0 ] && echo survived || echo FAILED)")
}

config() { # name cache results
  cat > "$work/$1.yaml" <<YAML
name: faults
track: fashion-mnist
protocol: faithful
seed: 0
val_size: 20
batch_size: 10
shard_size: 10
memory_budget_mb: 256
cache_dir: $2
results_dir: $3
model:
  train: {epochs: 1, batch_size: 64, learning_rate: 0.002, train_size: 2000, seed: 0, min_test_accuracy: 0.5}
patterns: {train_size: 1000, batch_size: 500}
degrade: {patch_size: 4, n_patches: 12, orders: [morf, random]}
plots: {grid_images: 2}
methods:
  - vanilla_grad
  - method: pattern_integrate_grad
    params: {steps: 5}
YAML
  echo "$work/$1.yaml"
}

# the artifacts' identity: every manifest's slot and file hashes (not times), plus the result CSVs
fingerprint() { # cache results
  (cd "$1" && find . -name manifest.json -not -path '*/.*' | sort | while read -r m; do
     # manifest.json is indented JSON: "slot", then per file "name" and "sha256" lines (figures excluded: fonts;
     # report.html too: it records each run's own unit times)
     awk -F'"' '/"slot":/ {printf "%s", $4} /"name":/ {n=$4} /"sha256":/ && n !~ /\.(png|svg|html)$/ {printf " %s:%s", n, $4} END {print ""}' "$m"
   done
   cd "$2" && sha256sum ./*.csv)
}

echo "== baseline: an uninterrupted run"
base_cfg=$(config base "$work/base-cache" "$work/base-results")
start=$(date +%s)
$PG run Plots --config "$base_cfg" > "$work/base.log" 2>&1 || { cat "$work/base.log"; exit 1; }
base_secs=$(( $(date +%s) - start ))
fingerprint "$work/base-cache" "$work/base-results" > "$work/base.fp"
echo "baseline: $(wc -l < "$work/base.fp") artifacts and result files in ${base_secs}s"

check_same() { # cache results label
  fingerprint "$1" "$2" > "$work/now.fp"
  diff -q "$work/base.fp" "$work/now.fp" > /dev/null || { diff "$work/base.fp" "$work/now.fp" | head -5 >&2; return 1; }
}

echo "== kill -9 at seeded moments (at least $kills kills, over as many chains as it takes)"
# a chain is one cache, run again and again and killed each time; each attempt resumes where the last one was
# killed, so the kills move through every stage. A chain whose run completes is checked against the baseline,
# and the next chain starts from an empty cache.
c=0 done_kills=0
while [ "$done_kills" -lt "$kills" ]; do
  c=$((c + 1))
  cfg=$(config "chain$c" "$work/chain$c-cache" "$work/chain$c-results")
  for k in $(seq 1 50); do
    [ "$done_kills" -ge "$kills" ] && break
    delay=$(awk -v r=$RANDOM -v t="$base_secs" 'BEGIN { t = t / 2; if (t < 2) t = 2; printf "%.2f", 1 + (t - 1) * r / 32767 }')
    $PG run Plots --config "$cfg" > "$work/chain$c-$k.log" 2>&1 &
    pid=$!
    sleep "$delay"
    if ! kill -0 $pid 2>/dev/null; then wait $pid; break; fi   # the chain's run completed before this kill
    running=$(grep -o 'computed [^@ ]*' "$work/chain$c-$k.log" | tail -1 | cut -d' ' -f2)
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    done_kills=$((done_kills + 1))
    # nothing half-published: every artifact directory verifies
    $PG verify --config "$cfg" > "$work/verify.log" 2>&1
    record "kill -9" "chain $c, attempt $k, after ${delay}s (last unit finished in it: ${running:-none})" $?
  done
  $PG run Plots --config "$cfg" > "$work/chain$c-final.log" 2>&1 && check_same "$work/chain$c-cache" "$work/chain$c-results"
  record "resume after kills" "chain $c: the rerun completes, results identical" $?
done

echo "== byte flips and truncations in every artifact kind (mtime restored)"
cp -r "$work/base-cache" "$work/damage-cache"
cfg=$(config damage "$work/damage-cache" "$work/damage-results")
for mode in flip truncate; do
  # one damaged file in every stage at once: verify must name each, one rerun must repair them all
  damaged=()
  for stage_dir in "$work"/damage-cache/*/; do
    stage=$(basename "$stage_dir")
    [ "$stage" = downloads ] && continue
    file=$(find "$stage_dir" -path '*/.*' -prune -o -type f -name '*.parquet' -print | sort | head -1)
    [ -z "$file" ] && continue
    mtime=$(stat -c %y "$file")   # to the nanosecond: the same mtime a damaged file would keep
    if [ $mode = flip ]; then
      # flip one bit in the middle of the file
      off=$(( $(stat -c %s "$file") / 2 ))
      byte=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
      printf "$(printf '\\%03o' $(( byte ^ 1 )))" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
    else
      truncate -s $(( $(stat -c %s "$file") / 2 )) "$file"
    fi
    touch -d "$mtime" "$file"
    damaged+=("$stage/$(basename "$(dirname "$file")" | cut -c1-12)/$(basename "$file")")
  done
  $PG verify --config "$cfg" > "$work/verify-$mode.log" 2>&1
  code=$?
  $PG run Plots --config "$cfg" > "$work/damage-$mode.log" 2>&1 && check_same "$work/damage-cache" "$work/damage-results"
  repaired=$?
  for d in "${damaged[@]}"; do
    stage=${d%%/*}
    [ $code = 5 ] && grep -q "^damaged: $stage" "$work/verify-$mode.log" && [ $repaired = 0 ]
    record "$mode" "$d: named by pgig verify, recomputed by the next run, results identical" $?
  done
done

echo "== concurrent runs and a clean with another config"
cfg=$(config conc "$work/conc-cache" "$work/conc-results")
other=$(config other "$work/conc-cache" "$work/other-results")
sed -i 's/val_size: 20/val_size: 10/; s/shard_size: 10/shard_size: 10/' "$other"
$PG run Plots --config "$cfg" > "$work/conc1.log" 2>&1 & p1=$!
$PG run Plots --config "$cfg" > "$work/conc2.log" 2>&1 & p2=$!
sleep 3
$PG clean --config "$other" > "$work/conc-clean.log" 2>&1
wait $p1; r1=$?; wait $p2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && check_same "$work/conc-cache" "$work/conc-results"
record "concurrency" "two runs of one config and a clean with another config at once" $?

echo "== full disk"
if mkdir -p "$work/tiny" && mount -t tmpfs -o size=3m tmpfs "$work/tiny" 2>/dev/null; then
  cfg=$(config full "$work/tiny/cache" "$work/tiny/results")
  $PG run Plots --config "$cfg" > "$work/full.log" 2>&1
  code=$?
  lines=$(grep -c . "$work/full.log" | tr -d ' ')
  grep -q "No space left\|no space" "$work/full.log" && ! grep -q "   at " "$work/full.log" && [ $code != 0 ] \
    && $PG verify --config "$cfg" > /dev/null 2>&1
  record "disk full" "3 MB tmpfs: one message, exit $code, no partial artifact" $?
  umount "$work/tiny"
else
  echo "(tmpfs mount not permitted here: the full-disk case runs in the xunit suite on /dev/full, Cli/ErrorMessageTests)"
fi

echo "== bad YAML"
printf 'track: fashion-mnist\nmethods: [vanilla_grad\nval_size: 20\n' > "$work/bad.yaml"
out=$($PG status --config "$work/bad.yaml" 2>&1); code=$?
[ $code != 0 ] && echo "$out" | grep -q "bad.yaml:2:" && ! echo "$out" | grep -q "   at "
record "bad YAML" "unclosed list: file:line:column, exit $code" $?

echo
echo "| fault | where | outcome |"
echo "|---|---|---|"
for row in "${table[@]}"; do echo "| ${row//|/ | } |"; done
echo
echo "faults injected: $injected, survived: $survived, data lost or wrong: $lost"
[ "$lost" = 0 ]
