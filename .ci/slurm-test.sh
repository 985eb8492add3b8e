#!/usr/bin/env bash
# A real one-node Slurm (Debian's slurm-wlm, with a private munged) runs config/smoke.yaml through `pgig slurm`
# as a 3-task array plus the Plots job; every artifact and results/ must equal the single-process run's.
# Then, in a second fresh cache, the task computing the model is cancelled mid-run (scancel), resubmitted with
# --tasks, and the run must again complete with identical results and nothing half-published. A third run uses
# --shared-first (the shared units in a job before the array): identical results, and no task waits for a lock.
# Takes 2 to 6 minutes on 2 cores, depending on what else runs there.
# Usage (as root, after the smoke run; .ci/run calls it): .ci/slurm-test.sh [REF_CACHE REF_RESULTS]
#
# What differs from a production Slurm, and why: CI runs as root in a container without systemd, which need
# not give Slurm a delegated cgroup tree, and has no accounting database (slurmdbd). So slurm.conf uses
# proctrack/linuxproc, task/none, jobacct_gather/none and accounting_storage/none (the cgroup plugins were not
# tried), SlurmUser=SlurmdUser=root, and job states come from scontrol (MinJobAge keeps finished jobs listed)
# instead of sacct. The daemons use private ports, state directories and munge socket under one temporary
# directory, so they disturb nothing else on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
ref_cache=$(realpath "${1:-.pgig-cache-smoke}")
ref_results=$(realpath "${2:-results-smoke}")
port=${PGIG_SLURM_PORT:-16817}
start=$(date +%s)
say() { echo "== slurm [$(( $(date +%s) - start ))s] $*"; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v jq >/dev/null || ! command -v lslocks >/dev/null; then
  say "installing slurm-wlm, munge, jq"
  apt-get install -y -qq --no-install-recommends slurm-wlm munge jq util-linux >/dev/null
fi
# ./pgig as the README has it; the jobs then run the build it names (dotnet .../pgig.dll), never rebuilding
pgig=("$repo/pgig")
[ -f "$repo/src/PgIg/bin/Release/net10.0/pgig.dll" ] || { echo "slurm-test: build pgig first (dotnet build -c Release PgIg.sln)" >&2; exit 1; }

# munged refuses a socket directory that others cannot traverse: the work directory is 755, the key's 700
work=$(mktemp -d /tmp/pgig-slurm.XXXXXX)
chmod 755 "$work"
mkdir -p -m 700 "$work/munge"
mkdir -p "$work"/{state,spool,log,run,sock}
conf=$work/slurm.conf
node=$(hostname -s)
daemons=()

cleanup() {
  local rc=$?
  set +e
  if [ -f "$conf" ]; then
    # jobs first (their processes outlive slurmd), then every process that carries this test's SLURM_CONF
    # (daemons, slurmstepd, job steps): found by pid, nothing else on the machine is touched
    SLURM_CONF=$conf timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null
    sleep 1
    local pids=()
    for e in /proc/[0-9]*/environ; do
      p=${e#/proc/}; p=${p%/environ}
      [ "$p" = $$ ] && continue
      [[ $'\n'"$( { tr '\0' '\n' < "$e"; } 2>/dev/null)"$'\n' == *$'\n'"SLURM_CONF=$conf"$'\n'* ]] && pids+=("$p")
    done
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    sleep 1
    [ ${#pids[@]} -gt 0 ] && kill -9 "${pids[@]}" 2>/dev/null
  fi
  # the daemons are this shell's children (foreground mode), so wait reaps them: no zombies left behind
  [ ${#daemons[@]} -gt 0 ] && { kill "${daemons[@]}" 2>/dev/null; wait "${daemons[@]}" 2>/dev/null; }
  if [ $rc -ne 0 ]; then
    echo "slurm-test failed; logs:" >&2
    tail -n 30 "$work"/log/*.log "$work"/logs-*/*.out 2>/dev/null >&2
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "munged, slurmctld and slurmd on $node ($(nproc) CPUs, ports $port/$((port + 1)))"
mungekey --create --keyfile="$work/munge/munge.key"
/usr/sbin/munged --foreground --key-file="$work/munge/munge.key" --socket="$work/sock/munge.socket" --pid-file="$work/run/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" >/dev/null 2>&1 &
daemons+=($!)
for _ in $(seq 50); do [ -S "$work/sock/munge.socket" ] && break; sleep 0.1; done
cat > "$conf" <<EOF
ClusterName=pgigci
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$work/sock/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export -n SLURM_CONF 2>/dev/null || true
sl() { SLURM_CONF=$conf "$@"; }
# foreground (-D) children of this shell, their stderr copies of the log files discarded
sl /usr/sbin/slurmctld -D -i >/dev/null 2>&1 &
daemons+=($!)
sl /usr/sbin/slurmd -D >/dev/null 2>&1 &
daemons+=($!)
for _ in $(seq 60); do [ "$(sl sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 1; done
[ "$(sl sinfo -h -o %T)" = idle ] || { echo "slurm-test: the node did not come up: $(sl sinfo -h -o '%T %E')" >&2; exit 1; }

# submit: pgig slurm prints the two job ids
submit() {  # cache results logs [more pgig slurm options]
  local out
  out=$(sl "${pgig[@]}" slurm --config config/smoke.yaml --workers 3 --cache-dir "$1" --results-dir "$2" --log-dir "$3" "${@:4}")
  echo "$out" | sed 's/^/   /' >&2
  shared=$(echo "$out" | sed -n 's/^submitted shared-units job \([0-9]*\).*/\1/p')
  array=$(echo "$out" | sed -n 's/^submitted array job \([0-9]*\).*/\1/p')
  plots=$(echo "$out" | sed -n 's/^submitted Plots job \([0-9]*\).*/\1/p')
  [ -n "$array" ] && [ -n "$plots" ] || { echo "slurm-test: pgig slurm printed no job ids" >&2; exit 1; }
}
# every job record (array tasks separately) as "id state exitcode". (No `cmd | grep -q` in this script: with
# pipefail, grep's early exit makes the writer's SIGPIPE fail the test.)
states() {
  for j in "$@"; do
    sl scontrol -o show job "$j" | sed -n -e 's/^JobId=[0-9]* ArrayJobId=\([0-9]*\) ArrayTaskId=\([0-9,-]*\) .*JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\).*/\1_\2 \3 \4/p' \
      -e 't' -e 's/^JobId=\([0-9]*\) .*JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\).*/\1 \2 \3/p'
  done
}
busy() { [[ "$(states "$@")" =~ \ (PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED)\  ]]; }
wait_for() {  # seconds job...: until none is pending or running
  local deadline=$(( $(date +%s) + $1 )); shift
  while busy "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "slurm-test: jobs $* still not done:" >&2; states "$@" >&2; exit 1; }
    sleep 2
  done
}
all_completed() {
  local bad
  bad=$(states "$@" | grep -v ' COMPLETED 0:0$' || true)
  [ -z "$bad" ] || { echo "slurm-test: jobs did not complete: $bad" >&2; exit 1; }
}

say "run 1: 3-task array + Plots job"
submit "$work/cache-1" "$work/results-1" "$work/logs-1"
status_shown=""
deadline=$(( $(date +%s) + 300 ))
while busy "$array" "$plots"; do
  # once, while a worker computes: pgig status as a user watching the cluster job would see it
  if [ -z "$status_shown" ] && [[ $'\n'"$(lslocks -n -r -o PATH 2>/dev/null)" == *$'\n'"$work/cache-1/train/"* ]]; then
    say "pgig status while the job runs"
    sl "${pgig[@]}" status --config config/smoke.yaml --cache-dir "$work/cache-1" | grep -E 'stage|Data|Train|Patterns|running' || true
    status_shown=1
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "slurm-test: run 1 not done after 300s" >&2; states "$array" "$plots" >&2; exit 1; }
  sleep 1
done
all_completed "$array" "$plots"
states "$array" "$plots" | sed 's/^/   /'
"$repo/.ci/compare-runs.sh" "$ref_cache" "$ref_results" "$work/cache-1" "$work/results-1"

say "run 2: cancel the task that computes the model, resubmit it"
submit "$work/cache-2" "$work/results-2" "$work/logs-2"
first_array=$array first_plots=$plots
victim="" deadline=$(( $(date +%s) + 180 ))
while [ -z "$victim" ]; do
  # the worker holding the Train or Patterns unit's lock: its array task id from its environment
  read -r holder what < <(lslocks -n -r -o PID,PATH 2>/dev/null |
    awk -v d="$work/cache-2/" '!found && (index($2, d"train/") == 1 || index($2, d"patterns/") == 1) {found = 1; sub(d, "", $2); sub("/.*", "", $2); print $1, $2}') || true
  if [ -n "${holder:-}" ]; then
    victim=$(tr '\0' '\n' 2>/dev/null < "/proc/$holder/environ" | sed -n 's/^SLURM_ARRAY_TASK_ID=//p') || true
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "slurm-test: no worker took the train/patterns lock within 180s" >&2; exit 1; }
  [ -n "$victim" ] || sleep 0.5
done
say "scancel ${first_array}_$victim (pid $holder, computing $what)"
sl scancel "${first_array}_$victim"
wait_for 300 "$first_array" "$first_plots"
states "$first_array" "$first_plots" | sed 's/^/   /'
[[ "$(states "$first_array")" == *" CANCELLED "* ]] || { echo "slurm-test: no task was cancelled" >&2; exit 1; }
# the Plots job depended on every task succeeding: Slurm removed it
sed 's/^/   | /' "$work/logs-2/pgig-${first_array}_$victim.out"
[[ "$(states "$first_plots")" == *" CANCELLED "* ]] || { echo "slurm-test: the Plots job was not cancelled with its dependency" >&2; exit 1; }
test ! -e "$work/results-2/degradation.csv" || { echo "slurm-test: results published although a task was cancelled" >&2; exit 1; }
say "resubmit task $victim"
submit "$work/cache-2" "$work/results-2" "$work/logs-2" --tasks "$victim"
wait_for 300 "$array" "$plots"
all_completed "$array" "$plots"
states "$array" "$plots" | sed 's/^/   /'
leftover=$(find "$work/cache-2" -name '.tmp-*' -o -name '.trash-*')
[ -z "$leftover" ] || { echo "slurm-test: half-written directories left: $leftover" >&2; exit 1; }
"$repo/.ci/compare-runs.sh" "$ref_cache" "$ref_results" "$work/cache-2" "$work/results-2"

say "run 3: --shared-first"
# the data and the trained model from run 1 (artifacts are keyed, so a copy is as good as a computation): the
# shared job still computes the patterns, and the test stays well inside its time on 2 busy cores
mkdir -p "$work/cache-3" && cp -a "$work/cache-1/data" "$work/cache-1/train" "$work/cache-3/"
submit "$work/cache-3" "$work/results-3" "$work/logs-3" --shared-first
[ -n "$shared" ] || { echo "slurm-test: pgig slurm --shared-first printed no shared-units job" >&2; exit 1; }
wait_for 300 "$shared" "$array" "$plots"
all_completed "$shared" "$array" "$plots"
states "$shared" "$array" "$plots" | sed 's/^/   /'
waited=$(grep -l 'waiting for another pgig process' "$work/logs-3/pgig-${array}_"*.out || true)
[ -z "$waited" ] || { echo "slurm-test: with --shared-first a task waited for a lock: $waited" >&2; exit 1; }
"$repo/.ci/compare-runs.sh" "$ref_cache" "$ref_results" "$work/cache-3" "$work/results-3"
say "passed"
