#!/usr/bin/env bash
# The SLURM executor (`orch run --executor slurm`, issue 10) against a real single-node SLURM
# started by local_cluster.sh (installed with apt when missing; a cluster that cannot start
# fails the test, it never skips). Always stops the cluster it started.
#
#   tests/slurm/executor_test.sh ORCH FAKE_WORKER
#
# Checks, each against SLURM's and the database's own records:
#   classes   a sweep with ok, crash, exit-3, over-time (TIMEOUT), over-memory and silent
#             (no event for heartbeat_timeout: orch scancels the task) trials: each in its
#             outcome class (ok, crash, error, timeout, oom, hung)
#   polling   one squeue and one sacct call per poll interval for the whole sweep, for an
#             array of 6 tasks and one of 30 (wrappers first on PATH log every call)
#   kill      orch killed (SIGKILL) while the jobs are queued, then while they run; each
#             `orch resume` adopts the jobs: every trial runs exactly once, one sbatch total
#   detach    `orch run --detach` (3 trials, 2 per task) returns at once; `orch status`
#             ingests the results
#   cancel    `orch cancel` scancels a running sweep's jobs (recorded interrupted, the orch
#             polling them exits 130; `orch resume` then submits to SLURM again) and stops a
#             local `orch run` through its lease row
#   refused   a bad partition: SLURM's own message, exit 2, nothing claimed or submitted
# ~2.5 minutes, most of it SLURM's time-limit check (every 30 s, limits in whole minutes).
set -euo pipefail
ORCH=$(realpath "$1")
FAKE=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
T0=$SECONDS
export ORCH_SLURM_DIR=${ORCH_SLURM_TEST_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/orch-slurm-exec.XXXXXX")}
WORK=$ORCH_SLURM_DIR/work
say() { printf '[%3ds] %s\n' $((SECONDS - T0)) "$*"; }
fail() { say "FAIL: $*"; exit 1; }

BG_PIDS=()
finish() {
  local rc=$?
  for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  # Any orch of ours still running (a failed check leaves one polling): by its cwd.
  local d
  for d in /proc/[0-9]*; do
    [[ $(readlink "$d/exe" 2>/dev/null) == "$ORCH" && $(readlink "$d/cwd" 2>/dev/null) == "$WORK"/* ]] \
      && kill -KILL "${d#/proc/}" 2>/dev/null || true
  done
  say "stopping the cluster"
  "$HERE/local_cluster.sh" stop || rc=1
  if ((rc == 0)); then say "PASS (total $((SECONDS - T0)) s)"; else say "FAILED (rc $rc, total $((SECONDS - T0)) s)"; fi
  exit $rc
}
trap finish EXIT

say "starting the cluster in $ORCH_SLURM_DIR"
ENV=$("$HERE/local_cluster.sh" start) || fail "local_cluster.sh start failed: SLURM is required for this test"
eval "$ENV"
mkdir -p "$WORK/bin"

# Wrappers first on PATH: log "<unix time> <program> <args>" to $ORCH_CALL_LOG, then exec
# the real program.
for prog in sbatch squeue sacct scancel; do
  real=$(command -v "$prog") || fail "$prog not installed"
  cat >"$WORK/bin/$prog" <<WRAP
#!/bin/bash
[ -n "\${ORCH_CALL_LOG:-}" ] && echo "\$(date +%s.%N) $prog \$*" >> "\$ORCH_CALL_LOG"
exec $real "\$@"
WRAP
  chmod +x "$WORK/bin/$prog"
done
export PATH=$WORK/bin:$PATH
export ORCH_SLURM_POLL_S=2 ORCH_LEASE_S=6 ORCH_LEASE_REFRESH_S=1

# spec NAME DIR STUDY-YAML [SLURM-YAML]: DIR/spec.yaml
spec() {
  mkdir -p "$2"
  printf 'name: %s\nworker: %s\ndefaults: {tokens: 8, retries: 0, timeout: 20, heartbeat_timeout: 120}\nstudies:\n%s\nslurm:\n  time_margin: 1s\n%s' \
    "$1" "$FAKE" "$3" "${4:-}" >"$2/spec.yaml"
}
# outcomes DIR: "label outcome" per trial, sorted (label = x_behavior + x_i)
outcomes() {
  sqlite3 "$1/results/orch.db" "SELECT json_extract(config_json,'$.x_behavior') || coalesce(json_extract(config_json,'$.x_i'),''), CASE state WHEN 'done' THEN outcome ELSE state END FROM trials ORDER BY 1" | tr '|' ' '
}
sql() { sqlite3 "$1/results/orch.db" "$2"; }
# calls LOG PROG: how many times PROG ran (sbatch --test-only excluded)
real_sbatch() { grep ' sbatch ' "$1" | grep -vc -- '--test-only' || true; }

# check_polling LOG NAME: per poll one squeue and one sacct, never two polls in one interval
check_polling() {
  local log=$1 name=$2
  python3 - "$log" "$name" "$ORCH_SLURM_POLL_S" <<'PY'
import sys
log, name, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
calls = [(float(l.split()[0]), l.split()[1], l) for l in open(log)]
sq = [c for c in calls if c[1] == 'squeue' and ' -n ' not in c[2]]
sa = [c for c in calls if c[1] == 'sacct' and '--name' not in c[2]]
assert sq, f"{name}: no squeue call"
assert len(sq) == len(sa), f"{name}: {len(sq)} squeue vs {len(sa)} sacct calls"
for a, b in zip(sq, sq[1:]):
    assert b[0] - a[0] >= 0.9 * interval, f"{name}: two polls {b[0]-a[0]:.2f} s apart (interval {interval} s)"
# each squeue names every array job in one -j list
span = calls[-1][0] - calls[0][0]
assert len(sq) <= span / interval + 2, f"{name}: {len(sq)} polls in {span:.0f} s"
print(f"{name}: {len(sq)} squeue + {len(sa)} sacct calls in {span:.1f} s (interval {interval} s), "
      f"min gap {min([b[0]-a[0] for a, b in zip(sq, sq[1:])] or [0]):.2f} s")
PY
}

# --- classes (background: the TIMEOUT trial needs 60-90 s) -----------------------------------
A=$WORK/classes
spec classes "$A" '  - id: A
    matrix:
      x_behavior: [ok, crash, exit, hang, memhog]
      x_mem_mb: ["600"]
  - id: B
    heartbeat_timeout: 4
    matrix: {x_behavior: [silent]}' '  mem: 200M'
say "classes: 6 trials (ok, crash, exit 3, over --time, over --mem=200M, silent past heartbeat_timeout), polling every ${ORCH_SLURM_POLL_S} s"
(cd "$A" && ORCH_CALL_LOG=$A/calls.log "$ORCH" run spec.yaml --executor slurm >"$A/orch.log" 2>&1; echo $? >"$A/rc") &
BG_PIDS+=($!)

# --- refused: a bad partition -------------------------------------------------------------------
R=$WORK/refused
spec refused "$R" '  - id: A
    matrix: {x_i: ["1", "2"]}'
set +e
(cd "$R" && ORCH_CALL_LOG=$R/calls.log "$ORCH" run spec.yaml --executor slurm --partition no_such_partition >"$R/orch.log" 2>&1)
rc=$?
set -e
cat "$R/orch.log"
((rc == 2)) || fail "refused: exit $rc, expected 2"
grep -q 'Invalid partition name specified' "$R/orch.log" || fail "refused: no SLURM message"
[[ $(sql "$R" 'SELECT count(*) FROM attempts') == 0 ]] || fail "refused: attempts were recorded"
[[ $(real_sbatch "$R/calls.log") == 0 ]] || fail "refused: a job was submitted"
say "refused: exit 2 with SLURM's message, no attempt recorded, nothing submitted"

# --- kill while queued, then while running; resume each time ------------------------------------
K=$WORK/kill
spec kill "$K" '  - id: A
    matrix:
      x_behavior: [sleep]
      x_sleep: ["6"]
      x_i: ["1", "2", "3", "4"]
      x_marker: ["'"$K"'/marker"]' '  sbatch_args: [--begin=now+6]'
export ORCH_CALL_LOG=$K/calls.log
(cd "$K" && exec "$ORCH" run spec.yaml --executor slurm >"$K/orch1.log" 2>&1) &
P=$!
for ((i = 0; i < 100; i++)); do grep -q 'submitted SLURM job array' "$K/orch1.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'submitted SLURM job array' "$K/orch1.log" || fail "kill: nothing submitted: $(cat "$K/orch1.log")"
ARR=$(sed -n 's/.*submitted SLURM job array \([0-9]*\).*/\1/p' "$K/orch1.log")
[[ $(squeue -h -r -j "$ARR" -o %T | sort -u) == PENDING ]] || fail "kill: jobs not pending: $(squeue -h -r -j "$ARR" -o '%i %T')"
kill -KILL $P; wait $P 2>/dev/null || true
say "kill: orch SIGKILLed while array $ARR is queued (begin in 6 s)"
(cd "$K" && exec "$ORCH" resume >"$K/orch2.log" 2>&1) &
P=$!
for ((i = 0; i < 120; i++)); do compgen -G "$K/results/runs/*/attempt-1/slurm_started" >/dev/null && break; sleep 0.5; done
[[ -n $(squeue -h -r -j "$ARR" -t R -o %i) ]] || fail "kill: jobs never ran: $(squeue -h -r -t all -o '%i %T %r'; cat "$K/orch2.log")"
kill -KILL $P; wait $P 2>/dev/null || true
grep -q 'took over 4 SLURM job' "$K/orch2.log" || fail "kill: the first resume did not adopt the jobs: $(cat "$K/orch2.log")"
say "kill: orch SIGKILLed again while the jobs run"
(cd "$K" && "$ORCH" resume >"$K/orch3.log" 2>&1) || fail "kill: resume failed: $(cat "$K/orch3.log")"
cat "$K/orch3.log"
unset ORCH_CALL_LOG
[[ $(sort -u "$K/marker" | wc -l) == 4 && $(wc -l <"$K/marker") == 4 ]] || fail "kill: markers: $(cat "$K/marker")"
[[ $(sql "$K" 'SELECT count(*) FROM attempts') == 4 ]] || fail "kill: $(sql "$K" 'SELECT count(*) FROM attempts') attempts for 4 trials"
[[ $(sql "$K" "SELECT count(*) FROM trials WHERE outcome='ok'") == 4 ]] || fail "kill: $(outcomes "$K")"
[[ $(real_sbatch "$K/calls.log") == 1 ]] || fail "kill: $(real_sbatch "$K/calls.log") sbatch calls"
say "kill: 4 trials, each run exactly once (4 markers, 4 attempts, 1 sbatch) across two kills"

# --- detach, then status ---------------------------------------------------------------------------
D=$WORK/detach
spec detach "$D" '  - id: A
    matrix: {x_i: ["1", "2", "3"]}'
t=$SECONDS
(cd "$D" && ORCH_CALL_LOG=$D/calls.log "$ORCH" run spec.yaml --executor slurm --detach --trials-per-task 2 >"$D/orch.log" 2>&1) || fail "detach: $(cat "$D/orch.log")"
grep -q -- '--array=0-1 ' "$D/calls.log" || fail "detach: 3 trials at 2 per task are not 2 tasks: $(cat "$D/calls.log")"
((SECONDS - t <= 15)) || fail "detach: took $((SECONDS - t)) s"
grep -q '3 trial(s) are with SLURM' "$D/orch.log" || fail "detach: $(cat "$D/orch.log")"
for ((i = 0; i < 60; i++)); do
  (cd "$D" && "$ORCH" status >"$D/status.log" 2>&1) || fail "detach: status failed: $(cat "$D/status.log")"
  grep -q '^complete' "$D/status.log" && break
  sleep 1
done
cat "$D/status.log"
grep -q '^complete' "$D/status.log" || fail "detach: status never completed"
[[ $(sql "$D" "SELECT count(*) FROM trials WHERE outcome='ok'") == 3 ]] || fail "detach: $(outcomes "$D")"
say "detach: returned in $((SECONDS - t)) s or less; 3 trials in 2 tasks (trials_per_task 2); \`orch status\` recorded 3 ok results"

# --- cancel: a polling SLURM run, then a local run ----------------------------------------------
C=$WORK/cancel
spec cancel "$C" '  - id: A
    matrix: {x_behavior: [sleep], x_sleep: ["300"]}'
(cd "$C" && exec "$ORCH" run spec.yaml --executor slurm >"$C/orch.log" 2>&1) &
P=$!
# The array's name: orch-SWEEP-DB-rRUNbBATCH (DB: 8 hex digits of the results directory).
running_cancel_job() { squeue -h -t R -o '%i %j' | awk '$2 ~ /^orch-cancel-[0-9a-f]+-r1b1$/ {print $1}'; }
for ((i = 0; i < 120; i++)); do [[ -n $(running_cancel_job) ]] && break; sleep 0.5; done
JOB=$(running_cancel_job)
[[ -n $JOB ]] || fail "cancel: the job never ran"
(cd "$C" && "$ORCH" cancel) | tee "$C/cancel.log"
grep -q '1 SLURM job(s) cancelled' "$C/cancel.log" || fail "cancel: $(cat "$C/cancel.log")"
set +e
for ((i = 0; i < 100; i++)); do kill -0 $P 2>/dev/null || break; sleep 0.1; done
wait $P
rc=$?
set -e
((rc == 130)) || fail "cancel: the polling orch exited $rc: $(cat "$C/orch.log")"
for ((i = 0; i < 40; i++)); do [[ $(sacct -n -X -P -j "$JOB" -o State | awk '{print $1}') == CANCELLED ]] && break; sleep 0.5; done
[[ $(sacct -n -X -P -j "$JOB" -o State | awk '{print $1}') == CANCELLED ]] || fail "cancel: sacct: $(sacct -n -X -P -j "$JOB" -o State)"
[[ $(sql "$C" "SELECT outcome FROM attempts") == interrupted && $(sql "$C" "SELECT state FROM trials") == pending ]] \
  || fail "cancel: $(sql "$C" 'SELECT outcome, reason FROM attempts')"
# `orch resume` continues a cancelled SLURM sweep on SLURM without --executor.
(cd "$C" && "$ORCH" resume --detach >"$C/resume.log" 2>&1) || fail "cancel: resume --detach: $(cat "$C/resume.log")"
grep -q 'submitted SLURM job array' "$C/resume.log" || fail "cancel: resume did not go to SLURM: $(cat "$C/resume.log")"
(cd "$C" && "$ORCH" cancel >/dev/null) || fail "cancel: second cancel failed"
L=$WORK/cancel-local
spec cancellocal "$L" '  - id: A
    matrix: {x_behavior: [sleep], x_sleep: ["300"]}'
(cd "$L" && exec "$ORCH" run spec.yaml --kill-grace 0.5 >"$L/orch.log" 2>&1) &
P=$!
for ((i = 0; i < 100; i++)); do [[ $(sql "$L" "SELECT count(*) FROM attempts WHERE worker_pid > 0" 2>/dev/null) == 1 ]] && break; sleep 0.1; done
(cd "$L" && "$ORCH" cancel) | tee "$L/cancel.log"
grep -q '1 running orch(s) asked to stop' "$L/cancel.log" || fail "cancel local: $(cat "$L/cancel.log")"
set +e
for ((i = 0; i < 100; i++)); do kill -0 $P 2>/dev/null || break; sleep 0.1; done
wait $P
rc=$?
set -e
((rc == 130)) || fail "cancel local: orch run exited $rc: $(cat "$L/orch.log")"
[[ $(sql "$L" "SELECT outcome FROM attempts") == interrupted ]] || fail "cancel local: $(sql "$L" 'SELECT outcome, reason FROM attempts')"
say "cancel: SLURM job $JOB CANCELLED, attempt interrupted, its orch exited 130; a local run stopped through its lease row"

# --- 30 tasks in one array: polling does not grow with the array ----------------------------
G=$WORK/many
spec many "$G" '  - id: A
    matrix:
      x_i: ["0","1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21","22","23","24","25","26","27","28","29"]'
say "many: 30 trials in one array of 30 tasks"
(cd "$G" && ORCH_CALL_LOG=$G/calls.log "$ORCH" run spec.yaml --executor slurm >"$G/orch.log" 2>&1; echo $? >"$G/rc")

# --- wait for the background sweeps -------------------------------------------------------------
for dir in "$G" "$A"; do
  for ((i = 0; i < 1800; i++)); do [[ -f $dir/rc ]] && break; sleep 0.1; done
  [[ -f $dir/rc ]] || fail "$dir: orch did not finish: $(tail -5 "$dir/orch.log")"
done
cat "$G/orch.log" | tail -3
[[ $(cat "$G/rc") == 0 ]] || fail "many: exit $(cat "$G/rc")"
[[ $(sql "$G" "SELECT count(*) FROM trials WHERE outcome='ok'") == 30 ]] || fail "many: $(outcomes "$G")"
check_polling "$G/calls.log" "many (30 tasks)" || fail "many: polling"
cat "$A/orch.log"
[[ $(cat "$A/rc") == 0 ]] || fail "classes: exit $(cat "$A/rc")"
got=$(outcomes "$A")
echo "$got"
want=$'crash crash\nexit error\nhang timeout\nmemhog oom\nok ok\nsilent hung'
[[ $got == "$want" ]] || fail "classes: outcomes differ from: $want"
check_polling "$A/calls.log" "classes (6 tasks)" || fail "classes: polling"
say "classes: ok, crash, error, timeout (SLURM TIMEOUT), oom (SLURM $(sacct -n -X -P -o State -j "$(sql "$A" "SELECT job_id FROM attempts a JOIN trials t ON t.key=a.trial_key WHERE json_extract(t.config_json,'$.x_behavior')='memhog'")" | head -1))"
say "all checks passed"
