#!/bin/bash
# One array task of the fake sbatch: waits FAKE_TASK_DELAY, then runs the batch script
# with SLURM's task variables unless the task was cancelled meanwhile.
d=$1 script=$2 id=$3 i=$4 out=$5
echo $$ > "$d/pgid"
sleep "${FAKE_TASK_DELAY:-0.2}"
[ "$(cat "$d/state")" = PENDING ] || exit 0
echo RUNNING > "$d/state"
SLURM_JOB_ID=$((id * 1000 + i)) SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$i bash "$script" > "$out" 2>&1
rc=$?
if [ "$(cat "$d/state")" = RUNNING ]; then
  if ((rc == 0)); then echo COMPLETED > "$d/state"; else echo FAILED > "$d/state"; fi
  echo "$rc:0" > "$d/exit"
fi
