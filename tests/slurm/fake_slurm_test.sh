#!/usr/bin/env bash
# The SLURM executor and the attempt files against fake SLURM commands (tests/slurm/fake/:
# sbatch runs each array task as a local process group, squeue/sacct/scancel read and
# change its state; FAKE_* variables make SLURM slow, forgetful or without accounting):
# the states a real SLURM cannot be made to produce on demand (issue 17). Each case
# asserts; the script exits 1 when any fails. Usage: fake_slurm_test.sh ORCH [CASE...]
# Cases: name cancel_race packed_hung status_observes lost_no_sacct lost_files
#        other_users_job killed_in_sbatch slow_sbatch_lease detach_replicates exit_codes log_cap
#        events_cap worker_log_local
set -u
ORCH=$(realpath "${1:?usage: fake_slurm_test.sh ORCH [CASE...]}")
shift
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$HERE/fake:$PATH" ORCH_SLURM_POLL_S=0.5 ORCH_LEASE_S=6 ORCH_LEASE_REFRESH_S=1
command -v sqlite3 >/dev/null || { echo "sqlite3 missing" >&2; exit 2; }
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/orch-fake-slurm.XXXXXX")
FAILS=0

check() {  # check NAME CONDITION [DETAIL]
  if eval "$2"; then echo "ok   $CASE: $1"; else echo "FAIL $CASE: $1 (${3:-})"; FAILS=$((FAILS + 1)); fi
}
begin() {
  CASE=$1; T=$ROOT/$1; mkdir -p "$T"; cd "$T" || exit 2
  export FAKESLURM_DIR=$T/slurm; DB=$T/results/orch.db
  unset FAKE_SBATCH_SLEEP FAKE_SQUEUE_FORGET FAKE_SACCT_DISABLED FAKE_SACCT_EMPTY
}
q() { sqlite3 -cmd '.timeout 10000' "$DB" "$1"; }
spec() {  # spec NAME DEFAULTS STUDIES-YAML
  printf 'name: %s\nworker: %s\ndefaults: {retries: 0, %s}\nstudies:\n%s\nslurm: {time_margin: 1s}\n' \
    "$1" "$ROOT/worker.py" "$2" "$3" > spec.yaml
}
starts() { grep -c " start" "$T/marker" 2>/dev/null || echo 0; }
wait_for() {  # wait_for SECONDS CONDITION
  local end=$((SECONDS + $1)); while ((SECONDS < end)); do eval "$2" && return 0; sleep 0.1; done; return 1
}

# A protocol-v1 worker (docs/protocol.md); x_behavior picks what it does, x_marker logs
# each start and completion.
cat > "$ROOT/worker.py" <<'PY'
#!/usr/bin/env python3
import json, os, sys, time
doc = json.load(open(sys.argv[2]))
cfg = doc["config"]
b = cfg.get("x_behavior", "ok")
ev = open(doc["events_path"], "a")
def emit(e, **f):
    f.update(event=e, t=time.time()); ev.write(json.dumps(f) + "\n"); ev.flush()
def mark(what):
    if cfg.get("x_marker"):
        with open(cfg["x_marker"], "a") as m:
            m.write(f"{doc['trial_key'][:12]} {doc['attempt']} {what}\n")
emit("started", pid=os.getpid(), protocol=1)
mark("start")
if b == "silent":
    time.sleep(1000)
elif b == "sleep":
    end = time.time() + float(cfg.get("x_sleep", "3"))
    while time.time() < end:
        emit("heartbeat"); time.sleep(0.2)
elif b == "exit130":
    print("leaving with 130", file=sys.stderr); sys.exit(130)
elif b in ("fifo_log", "zero_log"):
    os.remove("worker.log")
    os.mkfifo("worker.log") if b == "fifo_log" else os.symlink("/dev/zero", "worker.log")
    sys.exit(1)
elif b == "spew":
    line = "x" * 1023 + "\n"
    for _ in range(12 * 1024):
        sys.stdout.write(line)
    print("the last line", flush=True)
elif b == "events_spew":  # 16 MiB of events in 4 bursts; the sizes it saw after each
    pad = "p" * 1000
    sizes = []
    for _ in range(4):
        for _ in range(4096):
            emit("heartbeat", pad=pad)
        time.sleep(1.5)
        sizes.append(os.path.getsize(doc["events_path"]))
    with open(cfg["x_sizes"], "w") as f:
        f.write(" ".join(map(str, sizes)) + "\n")
    emit("failure", outcome="blocked", message="the last event")
    sys.exit(0)
res = {"protocol": 1, "outcome": "ok", "metrics": {"ppl": 10.0},
       "samples": [{"repeat": 0, "warmup": 0, "latency_ms": [1.0, 1.1], "nll": [1, 1]}]}
with open(doc["result_path"] + ".tmp", "w") as f:
    json.dump(res, f); f.flush(); os.fsync(f.fileno())
os.rename(doc["result_path"] + ".tmp", doc["result_path"])
mark("done")
PY
chmod +x "$ROOT/worker.py"

case_name() {  # F10, L1: `/` and `,` in a sweep name
  begin name
  spec "team/exp1,b" "timeout: 60, heartbeat_timeout: 60" '  - id: A
    matrix: {x_i: ["1","2"]}'
  timeout 60 "$ORCH" run spec.yaml --db "$DB" --executor slurm > run.log 2>&1; rc=$?
  check "run exits 0" "[ $rc = 0 ]" "exit $rc: $(tail -3 run.log)"
  check "both trials ok" "[ \"\$(q \"SELECT count(*) FROM trials WHERE outcome='ok'\")\" = 2 ]"
  check "job names hold neither / nor ," "! grep -o -- '--job-name=[^ ]*' slurm/calls.log | grep -q '[/,]'"
}

case_cancel_race() {  # F1: `orch cancel` while the run is still submitting
  begin cancel_race
  spec race "timeout: 60, heartbeat_timeout: 60" "  - id: A
    matrix: {x_behavior: [sleep], x_sleep: [\"4\"], x_i: [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"], x_marker: [\"$T/marker\"]}"
  FAKE_SBATCH_SLEEP=1 timeout 120 "$ORCH" run spec.yaml --db "$DB" --executor slurm --max-array-size 1 > run.log 2>&1 &
  local pid=$!
  wait_for 30 "grep -q submitted run.log 2>/dev/null"
  sleep 0.3
  timeout 30 "$ORCH" cancel --db "$DB" > cancel.log 2>&1
  local cancelled_at; cancelled_at=$(date +%s.%N)
  wait $pid; rc=$?
  check "run stops as cancelled (130)" "[ $rc = 130 ]" "exit $rc: $(tail -3 run.log)"
  local after; after=$(awk -v c="$cancelled_at" '$2=="sbatch" && $0 !~ /test-only/ && $1 > c' slurm/calls.log | wc -l)
  check "no sbatch after the cancel returned" "[ $after = 0 ]" "$after"
  sleep 5
  check "no trial claimed again after the cancel" \
    "[ \"\$(q 'SELECT max(n) FROM (SELECT count(*) n FROM attempts GROUP BY trial_key)')\" = 1 ]" \
    "$(q 'SELECT trial_key, count(*) FROM attempts GROUP BY trial_key')"
}

case_packed_hung() {  # F2: a hung trial's never-started task-mate is not a user's cancel
  begin packed_hung
  spec packed "timeout: 60, heartbeat_timeout: 2" '  - id: A
    matrix: {x_behavior: [silent, ok]}
  - id: B
    matrix: {x_behavior: [sleep], x_sleep: ["3"], x_i: ["1", "2"]}'
  timeout 120 "$ORCH" run spec.yaml --db "$DB" --executor slurm --trials-per-task 2 > run.log 2>&1; rc=$?
  check "run completes (exit 0, not 130)" "[ $rc = 0 ]" "exit $rc: $(tail -3 run.log)"
  check "the silent trial is hung" \
    "[ \"\$(q \"SELECT outcome FROM trials WHERE json_extract(config_json,'\$.x_behavior')='silent'\")\" = hung ]"
  check "every other trial ok" "[ \"\$(q \"SELECT count(*) FROM trials WHERE outcome='ok'\")\" = 3 ]" \
    "$(q 'SELECT state, outcome FROM trials')"
}

case_status_observes() {  # F3: status only observes; orch's kill is durable
  begin status_observes
  spec detached "timeout: 60, heartbeat_timeout: 2" '  - id: A
    matrix: {x_behavior: [silent]}'
  timeout 60 "$ORCH" run spec.yaml --db "$DB" --executor slurm --detach > run.log 2>&1
  sleep 4
  timeout 60 "$ORCH" status --db "$DB" > status.log 2>&1
  check "orch status cancels nothing" "! grep -q scancel slurm/calls.log"
  # The orch that orders the kill dies while scancel runs (slow: 2 s); SLURM still
  # cancels the task; the next orch must read why from the attempt directory.
  FAKE_SCANCEL_SLEEP=2 timeout 60 "$ORCH" resume --db "$DB" > resume1.log 2>&1 &
  local pid=$!
  wait_for 30 "grep -q scancel slurm/calls.log 2>/dev/null"
  kill -KILL $pid; wait $pid 2>/dev/null
  check "the killing orch died before recording anything" "! grep -q complete resume1.log" "$(cat resume1.log)"
  wait_for 10 "grep -q CANCELLED slurm/jobs/*/state"
  timeout 60 "$ORCH" resume --db "$DB" > resume2.log 2>&1; rc=$?
  check "the next orch reads orch's kill: hung, not a user's cancel" \
    "[ \"\$(q 'SELECT group_concat(outcome) FROM attempts')\" = hung ]" "$(q 'SELECT outcome, reason FROM attempts')"
  check "resume exits 0" "[ $rc = 0 ]" "exit $rc: $(tail -3 resume2.log)"
}

lost_case() {  # F4/F5: a job gone from squeue (and sacct) is judged from its files
  begin "$1"
  spec lost "timeout: 60, heartbeat_timeout: 60" "  - id: A
    matrix: {x_behavior: [ok], x_marker: [\"$T/marker\"]}"
  timeout 60 "$ORCH" run spec.yaml --db "$DB" --executor slurm --detach > run.log 2>&1
  wait_for 20 "ls results/runs/*/attempt-1/exit_status >/dev/null 2>&1"
  env FAKE_SQUEUE_FORGET=1 "$2=1" timeout 30 "$ORCH" resume --db "$DB" > resume.log 2>&1; rc=$?
  check "resume ends (exit 0)" "[ $rc = 0 ]" "exit $rc: $(tail -3 resume.log)"
  check "the finished result is recorded ok" "[ \"\$(q 'SELECT group_concat(outcome) FROM attempts')\" = ok ]" \
    "$(q 'SELECT outcome, reason FROM attempts')"
  sleep 1
  check "the worker ran once" "[ \$(starts) = 1 ]" "$(cat marker)"
}
case_lost_no_sacct() { lost_case lost_no_sacct FAKE_SACCT_DISABLED; }
case_lost_files() { lost_case lost_files FAKE_SACCT_EMPTY; }

case_killed_in_sbatch() {  # L2: orch killed while sbatch runs; resume at once
  begin killed_in_sbatch
  spec k "timeout: 60, heartbeat_timeout: 60" "  - id: A
    matrix: {x_behavior: [sleep], x_sleep: [\"1\"], x_i: [\"1\",\"2\"], x_marker: [\"$T/marker\"]}"
  FAKE_SBATCH_SLEEP=3 "$ORCH" run spec.yaml --db "$DB" --executor slurm > run1.log 2>&1 &
  local pid=$!
  sleep 1.5; kill -KILL $pid; wait $pid 2>/dev/null
  timeout 90 "$ORCH" resume --db "$DB" > resume.log 2>&1; rc=$?
  sleep 4
  check "resume exits 0" "[ $rc = 0 ]" "exit $rc: $(tail -3 resume.log)"
  check "both trials ok" "[ \"\$(q \"SELECT count(*) FROM trials WHERE outcome='ok'\")\" = 2 ]"
  check "each trial's worker ran once" "[ \"\$(awk '\$3==\"start\"{print \$1}' marker | sort | uniq -d)\" = '' ]" "$(cat marker)"
}

case_other_users_job() {  # L1: a job of the same name but another user is not adopted
  begin other_users_job
  spec o "timeout: 60, heartbeat_timeout: 60" "  - id: A
    matrix: {x_behavior: [ok], x_marker: [\"$T/marker\"]}"
  FAKE_SBATCH_SLEEP=30 "$ORCH" run spec.yaml --db "$DB" --executor slurm > run1.log 2>&1 &
  local pid=$!
  wait_for 20 "grep -q 'sbatch --parsable' slurm/calls.log 2>/dev/null"
  kill -KILL $pid; wait $pid 2>/dev/null
  kill -KILL $(cat slurm/sbatch.pids) 2>/dev/null  # the fake sbatch orch left behind
  local name; name=$(q "SELECT job_id FROM attempts" | sed 's/^?//; s/_[0-9]*$//')
  mkdir -p slurm/jobs/9999_0
  echo "$name" > slurm/jobs/9999_0/name; echo mallory > slurm/jobs/9999_0/user; echo RUNNING > slurm/jobs/9999_0/state
  timeout 60 "$ORCH" resume --db "$DB" > resume.log 2>&1; rc=$?
  check "resume exits 0" "[ $rc = 0 ]" "exit $rc: $(tail -3 resume.log)"
  check "mallory's job 9999 was not adopted" "! q 'SELECT job_id FROM attempts' | grep -q '^9999'" "$(q 'SELECT job_id, outcome FROM attempts')"
  check "the trial ran (ok)" "[ \"\$(q 'SELECT outcome FROM trials')\" = ok ]"
}

case_slow_sbatch_lease() {  # L3: the lease covers a slow sbatch; status leaves the run alone
  begin slow_sbatch_lease
  spec slow "timeout: 60, heartbeat_timeout: 60" "  - id: A
    matrix: {x_behavior: [ok], x_i: [\"1\",\"2\"], x_marker: [\"$T/marker\"]}"
  ORCH_LEASE_S=2 ORCH_LEASE_REFRESH_S=1 FAKE_SBATCH_SLEEP=6 timeout 90 "$ORCH" run spec.yaml --db "$DB" --executor slurm > run.log 2>&1 &
  local pid=$!
  wait_for 20 "grep -q 'sbatch --parsable' slurm/calls.log 2>/dev/null"
  sleep 4  # past the 2 s lease, sbatch still running
  timeout 30 "$ORCH" status --db "$DB" > status.log 2>&1
  wait $pid; rc=$?
  check "run exits 0" "[ $rc = 0 ]" "exit $rc: $(tail -3 run.log)"
  check "status took nothing over: one attempt per trial, both ok" \
    "[ \"\$(q \"SELECT count(*) FROM attempts WHERE outcome='ok'\")|\$(q 'SELECT count(*) FROM attempts')\" = '2|2' ]" \
    "$(q 'SELECT outcome, reason FROM attempts')"
}

case_detach_replicates() {  # L6: --detach with repeats: N says what is left for resume
  begin detach_replicates
  spec reps "timeout: 60, heartbeat_timeout: 60, repeats: 3" '  - id: A
    matrix: {x_i: ["1","2"]}'
  timeout 60 "$ORCH" run spec.yaml --db "$DB" --executor slurm --detach > run.log 2>&1
  check "detach says 4 replicates of 2 trials are left" "grep -q '^4 more replicate(s) of 2 trial(s)' run.log" "$(cat run.log)"
  timeout 90 "$ORCH" resume --db "$DB" > resume.log 2>&1; rc=$?
  check "resume runs them all: 6 ok attempts" "[ $rc = 0 ] && [ \"\$(q \"SELECT count(*) FROM attempts WHERE outcome='ok'\")\" = 6 ]" \
    "exit $rc; $(q 'SELECT trial_key, replicate, outcome FROM attempts')"
}

case_exit_codes() {  # L5: exit 130 is an exit code, not SIGINT
  begin exit_codes
  spec codes "timeout: 60, heartbeat_timeout: 60" '  - id: A
    matrix: {x_behavior: [exit130]}'
  timeout 60 "$ORCH" run spec.yaml --db "$DB" --executor slurm > run.log 2>&1
  check "exit 130 is error with exit code 130, no signal" \
    "[ \"\$(q 'SELECT outcome, exit_code, signal IS NULL FROM attempts')\" = 'error|130|1' ]" \
    "$(q 'SELECT outcome, exit_code, signal FROM attempts')"
  timeout 60 "$ORCH" run spec.yaml --db "$T/local.db" > local.log 2>&1
  check "the same outcome as the local executor" \
    "[ \"\$(sqlite3 local.db 'SELECT outcome, exit_code FROM attempts')\" = 'error|130' ]"
}

case_log_cap() {  # L4: worker.log capped under SLURM as locally
  begin log_cap
  spec spew "timeout: 60, heartbeat_timeout: 60" '  - id: A
    matrix: {x_behavior: [spew]}'
  timeout 60 "$ORCH" run spec.yaml --db "$DB" --executor slurm > run.log 2>&1
  local log; log=$(ls results/runs/*/attempt-1/worker.log)
  local size; size=$(stat -c %s "$log")
  check "worker.log under 5.1 MiB" "[ $size -lt 5350000 ]" "$size bytes"
  check "it says what was dropped" "grep -q 'bytes of worker output dropped here' '$log'"
  check "the last line is kept" "[ \"\$(tail -1 '$log')\" = 'the last line' ]"
  check "the trial is ok" "[ \"\$(q 'SELECT outcome FROM trials')\" = ok ]"
  timeout 20 "$ORCH" show "$(q 'SELECT key FROM trials')" --db "$DB" > show.log 2>&1
  check "orch show gives a SLURM attempt's log tail" "grep -q '^the last line' show.log" "$(tail -5 show.log)"
}

case_events_cap() {  # L4: events.jsonl capped under SLURM; the outcome as locally
  begin events_cap
  spec events "timeout: 60, heartbeat_timeout: 60" "  - id: A
    matrix: {x_behavior: [events_spew], x_sizes: [\"$T/sizes\"]}"
  timeout 90 "$ORCH" run spec.yaml --db "$DB" --executor slurm > run.log 2>&1; rc=$?
  check "run exits 0" "[ $rc = 0 ]" "exit $rc: $(tail -3 run.log)"
  local ev; ev=$(ls results/runs/*/attempt-1/events.jsonl)
  local size; size=$(stat -c %s "$ev")
  check "events.jsonl at most 1 + 4 MiB and a marker after the worker" "[ $size -le 5243904 ]" "$size bytes"
  check "never more than 1 + 2 x 4 MiB (and a second) while it ran" \
    "[ \"\$(tr ' ' '\n' < sizes | sort -n | tail -1)\" -lt 10000000 ]" "sizes after each burst: $(cat sizes)"
  check "the head is kept" "head -1 '$ev' | grep -q '\"started\"'"
  check "one line says what was dropped" "[ \"\$(grep -c 'bytes of worker events dropped here' '$ev')\" = 1 ]"
  check "every line is a whole JSON object" \
    "python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' '$ev'"
  check "the last event (the failure) decides: blocked, as the worker said" \
    "[ \"\$(q 'SELECT outcome, reason FROM attempts')\" = 'blocked|the last event' ]" "$(q 'SELECT outcome, reason FROM attempts')"
  check "the attempt's warnings say events were dropped" \
    "q 'SELECT warnings_json FROM attempts' | grep -q 'bytes of worker events dropped here'" "$(q 'SELECT warnings_json FROM attempts')"
  timeout 60 "$ORCH" run spec.yaml --db "$T/local.db" > local.log 2>&1
  check "the same outcome as the local executor" \
    "[ \"\$(sqlite3 local.db 'SELECT outcome, reason FROM attempts')\" = 'blocked|the last event' ]" \
    "$(sqlite3 local.db 'SELECT outcome, reason FROM attempts')"
}

case_worker_log_local() {  # F7: worker.log replaced by a FIFO or a link to /dev/zero
  begin worker_log_local
  for kind in fifo_log zero_log; do
    mkdir -p "$kind"
    spec "log$kind" "timeout: 20, heartbeat_timeout: 20" "  - id: A
    matrix: {x_behavior: [$kind]}"
    mv spec.yaml "$kind/"
    (ulimit -v 1500000; timeout 40 "$ORCH" run "$kind/spec.yaml" --db "$T/$kind/orch.db" > "$kind/out.log" 2>&1); rc=$?
    check "$kind: orch run ends by itself (exit $rc)" "[ $rc != 124 ] && [ $rc != 137 ] && [ $rc -lt 128 ]" "$(tail -3 "$kind/out.log")"
    check "$kind: the trial is recorded error" \
      "[ \"\$(sqlite3 -cmd '.timeout 10000' '$T/$kind/orch.db' 'SELECT state, outcome FROM trials')\" = 'done|error' ]"
    local key; key=$(sqlite3 "$T/$kind/orch.db" 'SELECT key FROM trials')
    (ulimit -v 1500000; timeout 20 "$ORCH" show "$key" --db "$T/$kind/orch.db" > "$kind/show.log" 2>&1); rc=$?
    check "$kind: orch show answers (exit $rc)" "[ $rc = 0 ]"
  done
  mkdir -p slurm_zero && cd slurm_zero
  spec logzero "timeout: 20, heartbeat_timeout: 20" '  - id: A
    matrix: {x_behavior: [zero_log]}'
  (ulimit -v 1500000; timeout 40 "$ORCH" run spec.yaml --db "$T/slurm_zero/orch.db" --executor slurm > out.log 2>&1); rc=$?
  check "under SLURM: orch run ends by itself (exit $rc)" "[ $rc != 124 ] && [ $rc -lt 128 ]" "$(tail -3 out.log)"
  check "under SLURM: the trial is recorded error" \
    "[ \"\$(sqlite3 -cmd '.timeout 10000' '$T/slurm_zero/orch.db' 'SELECT state, outcome FROM trials')\" = 'done|error' ]"
}

ALL="name cancel_race packed_hung status_observes lost_no_sacct lost_files other_users_job killed_in_sbatch slow_sbatch_lease detach_replicates exit_codes log_cap events_cap worker_log_local"
for c in ${*:-$ALL}; do "case_$c"; done
# Leftover fake tasks (sleeping workers of cancelled cases) are killed by their groups.
for p in "$ROOT"/*/slurm/jobs/*/pgid; do [ -f "$p" ] && kill -KILL -- "-$(cat "$p")" 2>/dev/null; done
for p in "$ROOT"/*/slurm/sbatch.pids; do [ -f "$p" ] && kill -KILL $(cat "$p") 2>/dev/null; done
if ((FAILS > 0)); then echo "$FAILS check(s) failed; the cases' folders are in $ROOT"; exit 1; fi
rm -rf "$ROOT"
echo "all fake-SLURM checks passed"
