# Shared by the fake SLURM commands (tests/slurm/fake_slurm_test.sh): state under
# $FAKESLURM_DIR, one folder per array task (jobs/ARRAY_TASK: name, user, state, exit,
# pgid), every call logged to calls.log with its time.
FS=${FAKESLURM_DIR:?FAKESLURM_DIR not set}
mkdir -p "$FS/jobs"
log() { echo "$(date +%s.%N) $(basename "$0") $*" >> "$FS/calls.log"; }
