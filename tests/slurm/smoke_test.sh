#!/usr/bin/env bash
# Smoke test of a real single-node SLURM started by local_cluster.sh: the behaviours the orch
# SLURM executor relies on, each checked against what SLURM itself reports (sacct/squeue/sbatch).
# Exits non-zero on the first failure; always stops the cluster it started.
#
#   tests/slurm/smoke_test.sh        (root; installs slurm-wlm, munge, slurmdbd, mariadb if missing)
#
# Takes 100-120 s: a job's time limit is at least one minute and slurmctld checks time limits
# every 30 s, so the TIMEOUT case alone needs 60-90 s; everything else runs while it waits.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T0=$SECONDS
# Always a fresh state directory of its own (never an ORCH_SLURM_DIR from the caller: the test
# stops the cluster it uses). ORCH_SLURM_SMOKE_DIR overrides it.
export ORCH_SLURM_DIR=${ORCH_SLURM_SMOKE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/orch-slurm-smoke.XXXXXX")}

say() { printf '[%3ds] %s\n' $((SECONDS - T0)) "$*"; }
fail() { say "FAIL: $*"; exit 1; }
show() {  # show CMD...: print the command and its output (the executor's parsers read these)
  printf '$ %s\n' "$*"
  "$@"
}

stop_cluster() {
  local rc=$?
  say "stopping the cluster"
  "$HERE/local_cluster.sh" stop || rc=1
  rmdir "$ORCH_SLURM_DIR" 2>/dev/null || true  # a mktemp directory start never wrote into
  if ((rc == 0)); then say "PASS (total $((SECONDS - T0)) s)"; else say "FAILED (rc $rc, total $((SECONDS - T0)) s)"; fi
  exit $rc
}
trap stop_cluster EXIT

say "starting the cluster in $ORCH_SLURM_DIR"
ENV=$("$HERE/local_cluster.sh" start) || fail "local_cluster.sh start failed"
eval "$ENV"
echo "$ENV"
say "cluster up"
WORK=$ORCH_SLURM_DIR/work
mkdir -p "$WORK"
ALL_IDS=()

submit() {  # submit VAR SBATCH-ARGS...: VAR=job id (--parsable prints "ID" or "ID;cluster")
  local var=$1 out
  shift
  out=$(sbatch --parsable "$@") || fail "sbatch $* failed: $out"
  out=${out%%;*}
  ALL_IDS+=("$out")
  printf -v "$var" %s "$out"
}

# State of one job (array: of its first element) as sacct reports it; "CANCELLED by 0" -> CANCELLED.
acct_state() { sacct -n -X -P -o State -j "$1" 2>/dev/null | head -1 | awk '{print $1}'; }
queue_state() { squeue -h -t all -o %T -j "$1" 2>/dev/null | head -1; }

wait_acct() {  # wait_acct ID STATE SECONDS
  local id=$1 want=$2 secs=$3 end=$((SECONDS + $3)) st=
  while ((SECONDS < end)); do
    st=$(acct_state "$id")
    [[ $st == "$want" ]] && return 0
    sleep 0.5
  done
  fail "job $id: sacct state '$st' after $secs s, expected $want"
}

wait_queue() {  # wait_queue ID STATE SECONDS
  local id=$1 want=$2 secs=$3 end=$((SECONDS + $3)) st=
  while ((SECONDS < end)); do
    st=$(queue_state "$id")
    [[ $st == "$want" ]] && return 0
    sleep 0.25
  done
  fail "job $id: squeue state '$st' after $secs s, expected $want"
}

# --- node failure: first, because taking the node down kills every job on it -----------------
say "node failure: one job with --no-requeue, one with SLURM's default (requeue)"
submit NF -o /dev/null --no-requeue -J nodefail --wrap 'sleep 300'
submit NFQ -o /dev/null -J nodefail-requeue --wrap 'sleep 300'
wait_queue "$NF" RUNNING 20
wait_queue "$NFQ" RUNNING 20
show scontrol update nodename="$ORCH_SLURM_NODE" state=down reason=smoke-node-failure
wait_acct "$NF" NODE_FAIL 20
wait_queue "$NFQ" PENDING 20
show sacct -n -P -D -o JobID,State,ExitCode -j "$NF,$NFQ"
scontrol -o show job "$NFQ" | grep -o 'Restarts=[0-9]*' | grep -qx 'Restarts=1' \
  || fail "requeued job $NFQ: $(scontrol -o show job "$NFQ")"
show scancel "$NFQ"
# ReturnToService=2 brings the node back as soon as slurmd answers; resume it if it did not.
for ((i = 0; i < 40; i++)); do
  st=$(sinfo -h -n "$ORCH_SLURM_NODE" -o %T | head -1)
  [[ $st == idle ]] && break
  ((i == 8)) && scontrol update nodename="$ORCH_SLURM_NODE" state=resume 2>/dev/null || true
  sleep 0.5
done
[[ $st == idle ]] || fail "node did not return to idle after the node failure test: $st"
say "node failure: NODE_FAIL (no-requeue) and requeued PENDING Restarts=1 (default) seen; node idle again"

# --- timeout: a 1-minute job sleeping 300 s (in 'urgent' so that the preemption test below
# cannot pick it as its victim) --------------------------------------------------------------
submit TO -p urgent --time=1 -o "$WORK/timeout.out" -J timeout --wrap 'sleep 300'
wait_queue "$TO" RUNNING 20
say "timeout job $TO running with a 1 min limit"

# --- preemption: a 'debug' job is preempted (PreemptMode=CANCEL) by an 'urgent' one ----------
submit PV -p debug -o /dev/null -J victim --wrap 'sleep 300'
wait_queue "$PV" RUNNING 20
submit PU -p urgent -o /dev/null -J preemptor --wrap 'sleep 1'
wait_acct "$PV" PREEMPTED 30
wait_acct "$PU" COMPLETED 30
say "preemption: $PV PREEMPTED by $PU"

# --- job array: one file per task -------------------------------------------------------------
submit ARR --array=0-3 -o "$WORK/array_%A_%a.out" -J array \
  --wrap "echo \"\$SLURM_ARRAY_JOB_ID \$SLURM_ARRAY_TASK_ID \$SLURM_JOB_ID\" > $WORK/task_\$SLURM_ARRAY_TASK_ID.txt"
# A throttled array (%1) in the second partition.
submit THR --array=0-2%1 -p small -o /dev/null -J throttled --wrap 'sleep 0.2'
scontrol -o show job "$THR" | grep -q 'ArrayTaskThrottle=1' || fail "throttle not set: $(scontrol -o show job "$THR")"

# --- failures -------------------------------------------------------------------------------
submit FE -o "$WORK/exit3.out" -J exit3 --wrap 'echo failing; exit 3'
submit FS -o "$WORK/segv.out" -J segv --wrap 'kill -SEGV $$'
# 'tail' holds its last (here: only, newline-free) line in memory: 400 MiB against a 100 MiB limit.
submit OOM --mem=100M -o "$WORK/oom.out" -J oom --wrap 'head -c 400M /dev/zero | tail >/dev/null; sleep 5'
submit CR -o /dev/null -J cancel-running --wrap 'sleep 300'
submit CP -o /dev/null -J cancel-pending --begin=now+3600 --wrap 'true'

# --- refused submission: SLURM's own message ---------------------------------------------------
say "bad partition:"
set +e
BAD=$(sbatch --parsable -p no_such_partition --wrap true 2>&1)
BAD_RC=$?
set -e
printf '$ sbatch --parsable -p no_such_partition --wrap true\n%s\n(exit %d)\n' "$BAD" "$BAD_RC"
((BAD_RC != 0)) || fail "sbatch to a non-existent partition succeeded"
grep -q 'Invalid partition name specified' <<<"$BAD" || fail "unexpected sbatch message: $BAD"

# --- cancel -----------------------------------------------------------------------------------
wait_queue "$CR" RUNNING 60
show scancel "$CR" "$CP"
wait_acct "$CR" CANCELLED 20
wait_acct "$CP" CANCELLED 20

# --- wait for everything but the timeout job ----------------------------------------------
wait_acct "$FE" FAILED 60
wait_acct "$FS" FAILED 60
if [[ $ORCH_SLURM_CGROUPS == none ]]; then OOM_STATE=FAILED; else OOM_STATE=OUT_OF_MEMORY; fi
wait_acct "$OOM" "$OOM_STATE" 60
for t in 0 1 2 3; do
  wait_acct "${ARR}_$t" COMPLETED 60
  f=$WORK/task_$t.txt
  [[ -f $f ]] || fail "array task $t wrote no file"
  read -r aj at jid <"$f"
  [[ $aj == "$ARR" && $at == "$t" && -n $jid ]] || fail "array task $t wrote '$(cat "$f")'"
done
for t in 0 1 2; do wait_acct "${THR}_$t" COMPLETED 60; done
say "array: 4 files written, 4 tasks COMPLETED; throttled array done"

# --- the executor's batched polling: one squeue and one sacct call over all job ids ----------
IDS=$(IFS=,; echo "${ALL_IDS[*]}")
say "batched squeue over all ${#ALL_IDS[@]} job ids (-t all: finished jobs stay for MinJobAge=300 s):"
show squeue -h -t all -j "$IDS" -o '%i|%A|%F|%K|%T|%r|%M|%l'
NQ=$(squeue -h -t all -j "$IDS" -o '%A' | wc -l)
((NQ >= ${#ALL_IDS[@]})) || fail "squeue listed $NQ rows for ${#ALL_IDS[@]} ids"
say "squeue on a single unknown/purged id fails (the executor must treat that as 'not in the queue'):"
set +e
show squeue -h -j 999999 -o '%i|%T'
echo "(exit $?)"
set -e

say "waiting for the timeout job $TO (time limits are checked every 30 s)"
wait_acct "$TO" TIMEOUT 120
grep -q 'DUE TO TIME LIMIT' "$WORK/timeout.out" || fail "timeout job's output: $(cat "$WORK/timeout.out")"

say "batched sacct over all ids, allocations only (-X):"
show sacct -n -X -P -j "$IDS" -o JobIDRaw,JobID,JobName,Partition,State,ExitCode,Elapsed,Timelimit,ReqMem,Start,End
say "the same with steps (MaxRSS of the batch step; the step's own state):"
show sacct -n -P -j "$IDS" -o JobIDRaw,JobID,State,ExitCode,MaxRSS,ReqMem

# --- final check of every state ------------------------------------------------------------------
check() {  # check ID STATE EXITCODE
  local line st ec
  line=$(sacct -n -X -P -o State,ExitCode -j "$1" | head -1)
  st=${line%%|*}
  st=${st%% *}
  ec=${line##*|}
  [[ $st == "$2" && ( -z $3 || $ec == "$3" ) ]] || fail "job $1: '$line', expected $2 ${3:-}"
  printf '  %-14s %-8s %-16s %s\n' "$4" "$1" "$st" "$ec"
}
say "states:"
check "$NF" NODE_FAIL "" "node failure"
check "$PV" PREEMPTED "" "preempted"
check "$TO" TIMEOUT 0:0 "timeout"
check "$FE" FAILED 3:0 "exit 3"
check "$FS" FAILED 0:11 "SIGSEGV"
if [[ $OOM_STATE == OUT_OF_MEMORY ]]; then check "$OOM" OUT_OF_MEMORY 0:125 "over --mem"
else check "$OOM" FAILED 0:9 "over --mem"; fi
check "$CR" CANCELLED 0:0 "cancel running"
check "$CP" CANCELLED 0:0 "cancel pending"
check "${ARR}_0" COMPLETED 0:0 "array task 0"
say "all checks passed"
