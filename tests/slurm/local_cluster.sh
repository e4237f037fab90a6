#!/usr/bin/env bash
# A real single-node SLURM (slurmctld + slurmd + slurmdbd for sacct, munge, a private MariaDB)
# on localhost, for the SLURM executor's tests. Everything lives in one private state directory;
# nothing is written to /etc/slurm, /etc/munge, /run/munge or the system MariaDB.
#
#   local_cluster.sh start    install the packages if missing, start the daemons, wait until the
#                             node is idle, print the environment the tests need (eval-able)
#   local_cluster.sh env      print that environment again
#   local_cluster.sh status   which of our daemons run (exit 0 only when all of them do)
#   local_cluster.sh stop     cancel our jobs, stop exactly the daemons we started, remove the state
#
# Knobs (environment):
#   ORCH_SLURM_DIR        state directory            (default ${TMPDIR:-/tmp}/orch-slurm)
#   ORCH_SLURM_PORT_BASE  first of 4 TCP ports used  (default 16817: slurmctld, slurmd, slurmdbd,
#                         MariaDB = base..base+3; MariaDB binds 127.0.0.1, the SLURM daemons bind all
#                         interfaces (we found no bind-address setting) and accept only this
#                         run's munge key)
#   ORCH_SLURM_CGROUPS    auto (default) | v1 | v2 | none: how memory limits are enforced
#   ORCH_SLURM_CLUSTER    ClusterName                (default orchlocal)
#   ORCH_SLURM_NO_INSTALL set to 1 to fail instead of running apt-get
# Every setting is explained in tests/slurm/README.md.
set -euo pipefail

DIR=${ORCH_SLURM_DIR:-${TMPDIR:-/tmp}/orch-slurm}
PORT_BASE=${ORCH_SLURM_PORT_BASE:-16817}
CLUSTER=${ORCH_SLURM_CLUSTER:-orchlocal}
CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
DB_PORT=$((PORT_BASE + 3))
NODE=$(hostname -s)
CONF=$DIR/etc/slurm.conf
DBD_CONF=$DIR/etc/slurmdbd.conf
MUNGE_SOCKET=$DIR/munge/munge.socket
DB_SOCKET=$DIR/run/mariadb.sock
DB_PASS_FILE=$DIR/etc/db.pass
SBIN=/usr/sbin

log() { echo "local_cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The daemons in start order: name, binary (for the /proc check), pid file.
DAEMONS="munged mariadbd slurmdbd slurmctld slurmd"
pid_file() {
  case $1 in
    munged) echo "$DIR/munge/munged.pid" ;;
    mariadbd) echo "$DIR/run/mariadbd.pid" ;;
    *) echo "$DIR/run/$1.pid" ;;
  esac
}

# Pid of daemon $1 if it runs and is really that binary (a stale pid file after a reboot
# must not make us signal an unrelated process).
daemon_pid() {
  local f pid exe
  f=$(pid_file "$1")
  [[ -s $f ]] || return 1
  pid=$(tr -dc 0-9 <"$f")
  [[ -n $pid && -d /proc/$pid ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  [[ ${exe##*/} == "$1"* || $(cat "/proc/$pid/comm" 2>/dev/null) == "$1"* ]] || return 1
  echo "$pid"
}

print_env() {
  cat <<EOF
export SLURM_CONF=$CONF
export ORCH_SLURM_DIR=$DIR
export ORCH_SLURM_CLUSTER=$CLUSTER
export ORCH_SLURM_NODE=$NODE
export ORCH_SLURM_PARTITION=debug
export ORCH_SLURM_PARTITION_SMALL=small
export ORCH_SLURM_MUNGE_SOCKET=$MUNGE_SOCKET
export ORCH_SLURM_CGROUPS=$(cat "$DIR/etc/cgroup-mode" 2>/dev/null || cgroup_mode)
EOF
}

install_packages() {
  local missing=()
  local want=(slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client sacct:slurm-client
              slurmdbd:slurmdbd munged:munge mariadbd:mariadb-server mariadb:mariadb-client)
  local w
  for w in "${want[@]}"; do
    command -v "${w%%:*}" >/dev/null 2>&1 || [[ -x $SBIN/${w%%:*} ]] || missing+=("${w#*:}")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ ${ORCH_SLURM_NO_INSTALL:-0} == 1 ]] && die "missing packages: ${missing[*]}"
  [[ $(id -u) == 0 ]] || die "missing packages ${missing[*]} and not root to install them"
  # slurm-wlm is the metapackage (slurmctld + slurmd + slurm-client); the daemons' Debian
  # services are never started by us (and policy-rc.d usually forbids it in containers).
  missing=($(printf '%s\n' slurm-wlm munge "${missing[@]}" | sort -u))
  log "installing ${missing[*]}"
  if [[ -z $(apt-cache policy slurm-wlm 2>/dev/null | grep Candidate | grep -v none) ]]; then
    apt-get update -qq
  fi
  # On a plain VM, installing munge, mariadb-server, slurmctld, slurmd, slurmdbd would start
  # their system services (munged on /run/munge, MariaDB on 3306, ...), which are not ours to
  # stop. A policy-rc.d that says 101 ("action forbidden") keeps them stopped; containers often
  # have one already, and then it is left alone.
  local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# temporary, tests/slurm/local_cluster.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || rc=$?
  ((made_policy)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get install ${missing[*]} failed (exit $rc)"
}

write_configs() {
  mkdir -p "$DIR"/{etc,run,log,ctld,slurmd,munge,munge-key,db}
  chmod 755 "$DIR" "$DIR/munge"  # munged: the socket's directory must be searchable by all
  chmod 700 "$DIR/munge-key"
  [[ -s $DIR/munge-key/munge.key ]] || mungekey --create --keyfile="$DIR/munge-key/munge.key"
  chmod 600 "$DIR/munge-key/munge.key"
  [[ -s $DB_PASS_FILE ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9 >"$DB_PASS_FILE")

  # This machine's real CPUs and memory, as slurmd itself detects them.
  local hw cpus sockets cores threads mem
  hw=$($SBIN/slurmd -C | head -1)
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
  sockets=$(sed -n 's/.*SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$hw")
  cores=$(sed -n 's/.*CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$hw")
  threads=$(sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$hw")
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  [[ -n $cpus && -n $mem ]] || die "cannot parse 'slurmd -C': $hw"

  # Memory enforcement: cgroups when usable (state OUT_OF_MEMORY), else RSS sampling (see README).
  local mode proctrack taskplugin gatherparams cgplugin
  mode=$(cgroup_mode)
  case $mode in
    v1 | v2)
      proctrack=proctrack/cgroup taskplugin=task/cgroup,task/affinity gatherparams=
      cgplugin=cgroup/$mode ;;
    none)
      proctrack=proctrack/linuxproc taskplugin=task/affinity gatherparams=OverMemoryKill
      cgplugin=autodetect ;;
    *) die "ORCH_SLURM_CGROUPS must be auto, v1, v2 or none, not $mode" ;;
  esac
  echo "$mode" >"$DIR/etc/cgroup-mode"
  cat >"$CONF" <<EOF
# Written by tests/slurm/local_cluster.sh; see tests/slurm/README.md for why each line.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/slurmd
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# cgroup mode $mode (ORCH_SLURM_CGROUPS): v1 = cgroup memory limit, a job over --mem ends
# OUT_OF_MEMORY; none = no cgroups (pure-v2 hosts without systemd delegation, containers):
# RSS sampled every second, a step over --mem is killed (OverMemoryKill), the job ends FAILED 0:9.
ProctrackType=$proctrack
TaskPlugin=$taskplugin
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
${gatherparams:+JobAcctGatherParams=$gatherparams}
# sacct needs slurmdbd (accounting_storage/filetxt no longer exists in 22.05).
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
AccountingStoragePass=$MUNGE_SOCKET
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
MaxArraySize=10001
MaxJobCount=50000
MinJobAge=300
KillWait=5
OverTimeLimit=0
InactiveLimit=0
SlurmdTimeout=300
ReturnToService=2
MpiDefault=none
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem State=UNKNOWN
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE PriorityTier=1 State=UP
PartitionName=small Nodes=$NODE MaxTime=00:10:00 MaxNodes=1 PriorityTier=1 State=UP
PartitionName=urgent Nodes=$NODE MaxTime=00:10:00 PriorityTier=10 State=UP
EOF

  # Only read when a cgroup plugin is configured (cgroup mode v1 or v2).
  cat >"$DIR/etc/cgroup.conf" <<EOF
CgroupPlugin=$cgplugin
ConstrainCores=no
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
AllowedSwapSpace=0
EOF

  # slurmdbd refuses a config file that others can read (it holds the DB password).
  (umask 077; cat >"$DBD_CONF" <<EOF
# Written by tests/slurm/local_cluster.sh
DbdHost=$NODE
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$(cat "$DB_PASS_FILE")
StorageLoc=slurm_acct_db
EOF
  )
}

# ORCH_SLURM_CGROUPS=auto (default): v1 when the cgroup v1 memory and freezer controllers are
# mounted and writable (this sandbox; older distributions), else none. v2 is opt-in only: slurmd
# 22.05 with cgroup/v2 wants a systemd-delegated cgroup (and dbus), which a daemon started from a
# shell or CI job does not have.
cgroup_mode() {
  local m=${ORCH_SLURM_CGROUPS:-auto}
  if [[ $m == auto ]]; then
    if [[ -w /sys/fs/cgroup/memory/memory.limit_in_bytes || -w /sys/fs/cgroup/memory/cgroup.procs ]] \
      && [[ -d /sys/fs/cgroup/freezer ]]; then m=v1; else m=none; fi
  fi
  echo "$m"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2 i
  shift 2
  local end=$((SECONDS + secs))
  while ((SECONDS < end)); do
    if timeout 10 "$@" >"$DIR/log/wait.out" 2>&1; then return 0; fi
    sleep 0.25
  done
  log "waited $secs s for $what; last try said: $(tail -3 "$DIR/log/wait.out")"
  return 1
}

db() { mariadb --no-defaults -S "$DB_SOCKET" -u root "$@"; }

start_munged() {
  daemon_pid munged >/dev/null && return 0
  $SBIN/munged --socket="$MUNGE_SOCKET" --key-file="$DIR/munge-key/munge.key" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/munge-key/munged.seed" \
    || die "munged failed: $(tail -3 "$DIR/log/munged.log")"
  wait_for 10 munge bash -c "munge -S '$MUNGE_SOCKET' -n | unmunge -S '$MUNGE_SOCKET'" \
    || die "munge does not answer: $(tail -3 "$DIR/log/munged.log")"
}

start_mariadb() {
  daemon_pid mariadbd >/dev/null && return 0
  if [[ ! -d $DIR/db/mysql ]]; then
    mariadb-install-db --no-defaults --datadir="$DIR/db" --user=root \
      --auth-root-authentication-method=socket --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1 \
      || die "mariadb-install-db failed: $(tail -5 "$DIR/log/mariadb-install.log")"
  fi
  # Not via mariadbd-safe: we want this exact process and its pid. --user=root because we run as
  # root and want no files owned by the mysql user; TCP only on 127.0.0.1; no native AIO
  # (io_submit is missing in some sandboxes, e.g. gVisor); small buffers (a test database).
  setsid $SBIN/mariadbd --no-defaults --datadir="$DIR/db" --user=root --socket="$DB_SOCKET" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --pid-file="$DIR/run/mariadbd.pid" --log-error="$DIR/log/mariadb.log" \
    --innodb-use-native-aio=0 --innodb-buffer-pool-size=64M --innodb-log-file-size=64M \
    --innodb-lock-wait-timeout=900 --max-connections=50 </dev/null >/dev/null 2>&1 &
  wait_for 60 mariadb mariadb --no-defaults -S "$DB_SOCKET" -u root -e 'select 1' || die "MariaDB did not start: $(tail -5 "$DIR/log/mariadb.log")"
  local pass
  pass=$(cat "$DB_PASS_FILE")
  db -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
         GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
}

start_slurmdbd() {
  daemon_pid slurmdbd >/dev/null && return 0
  SLURM_CONF=$CONF $SBIN/slurmdbd || die "slurmdbd failed: $(tail -5 "$DIR/log/slurmdbd.log")"
  wait_for 60 slurmdbd env SLURM_CONF="$CONF" sacctmgr -n list cluster \
    || die "slurmdbd does not answer: $(tail -5 "$DIR/log/slurmdbd.log")"
  if ! SLURM_CONF=$CONF sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
    SLURM_CONF=$CONF sacctmgr -i add cluster "$CLUSTER" >&2
  fi
}

start_slurmctld() {
  daemon_pid slurmctld >/dev/null && return 0
  SLURM_CONF=$CONF $SBIN/slurmctld -f "$CONF" || die "slurmctld failed: $(tail -5 "$DIR/log/slurmctld.log")"
  wait_for 60 slurmctld bash -c "SLURM_CONF='$CONF' scontrol ping | grep -q UP" \
    || die "slurmctld does not answer: $(tail -5 "$DIR/log/slurmctld.log")"
}

start_slurmd() {
  daemon_pid slurmd >/dev/null && return 0
  SLURM_CONF=$CONF $SBIN/slurmd -f "$CONF" -N "$NODE" || die "slurmd failed: $(tail -5 "$DIR/log/slurmd.log")"
}

node_state() { SLURM_CONF=$CONF sinfo -h -n "$NODE" -o %T 2>/dev/null | sort -u | head -1; }

cmd_start() {
  [[ $(id -u) == 0 ]] || die "must run as root (SlurmdUser=root, and it installs packages)"
  install_packages
  write_configs
  start_munged
  start_mariadb
  start_slurmdbd
  start_slurmctld
  start_slurmd
  local st=
  for ((i = 0; i < 240; i++)); do
    st=$(node_state)
    [[ $st == idle || $st == mixed || $st == allocated ]] && break
    sleep 0.25
  done
  [[ $st == idle || $st == mixed || $st == allocated ]] \
    || die "node $NODE not idle but '$st': $(SLURM_CONF=$CONF scontrol show node "$NODE" | grep -i reason); slurmd log: $(tail -5 "$DIR/log/slurmd.log")"
  log "cluster $CLUSTER up: node $NODE $st, state in $DIR"
  print_env
}

cmd_status() {
  local d pid all=0
  for d in $DAEMONS; do
    if pid=$(daemon_pid "$d"); then echo "$d running (pid $pid)"; else echo "$d not running"; all=1; fi
  done
  if ((all == 0)); then
    SLURM_CONF=$CONF sinfo -N -o '%N %P %T %c %m' || true
  fi
  return $all
}

stop_daemons() {  # SIGTERM to each named daemon at once, then wait (each takes ~2 s to exit)
  local d pid i pids=()
  for d in "$@"; do
    pid=$(daemon_pid "$d") || continue
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$d:$pid")
  done
  for d in "${pids[@]}"; do
    pid=${d#*:}
    for ((i = 0; i < 60; i++)); do
      [[ -d /proc/$pid ]] || break
      sleep 0.2
    done
    if [[ -d /proc/$pid ]]; then
      log "${d%%:*} (pid $pid) ignored SIGTERM for 12 s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

# slurmstepd processes started by our slurmd (one per job step; they outlive slurmd), recognised
# by the SLURM_CONF=<our slurm.conf> in their environment, which they inherit from our slurmd.
our_stepds() {
  local p
  for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_CONF=$CONF"; then echo "$p"; fi
  done
}

our_job_processes() {
  local d env
  for d in /proc/[0-9]*; do
    env=$(tr '\0' '\n' 2>/dev/null <"$d/environ") || continue
    grep -qx "SLURM_CONF=$CONF" <<<"$env" && grep -q '^SLURM_JOB_ID=' <<<"$env" && echo "${d#/proc/}"
  done
  return 0
}

cmd_stop() {
  if daemon_pid slurmctld >/dev/null; then
    # Cancel every job of this cluster so that no step outlives its slurmd.
    local ids
    ids=$(SLURM_CONF=$CONF squeue -h -o %A 2>/dev/null | tr '\n' ' ' || true)
    if [[ -n ${ids// /} ]]; then
      SLURM_CONF=$CONF scancel $ids 2>/dev/null || true
      wait_for 20 jobs-gone bash -c "[[ -z \$(SLURM_CONF='$CONF' squeue -h -t R,CG -o %A) ]]" || true
    fi
  fi
  # Two waves: the SLURM daemons first (slurmctld still reaches slurmdbd and munge while it
  # shuts down), then slurmdbd, its database and munge.
  stop_daemons slurmd slurmctld
  stop_daemons slurmdbd mariadbd munged
  local p
  for p in $(our_stepds); do
    log "killing leftover slurmstepd $p"
    kill -KILL "$p" 2>/dev/null || true
  done
  # Job processes (batch scripts and what they started) that outlived their slurmstepd,
  # e.g. when stop came while a job ran and its stepd had to be killed: recognised by
  # SLURM_JOB_ID and our SLURM_CONF in their environment (the caller and orch have no
  # SLURM_JOB_ID). Left alive they would keep a CPU and their job's cgroup, and a later
  # cluster's job with the same id would fail to start there (node DRAINED).
  for p in $(our_job_processes); do
    log "killing leftover job process $p"
    kill -KILL "$p" 2>/dev/null || true
  done
  sleep 0.2
  # task/cgroup leaves the empty per-node parents (e.g. /sys/fs/cgroup/memory/slurm_$NODE);
  # rmdir removes only empty ones, so a running job's cgroup is never touched.
  local cg
  for cg in /sys/fs/cgroup/*/slurm_"$NODE" /sys/fs/cgroup/slurm_"$NODE"; do
    [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  if [[ -d $DIR ]]; then
    # Only remove a directory that looks like ours.
    if [[ -f $CONF || -d $DIR/munge-key ]]; then rm -rf "$DIR"; else log "not removing $DIR: not ours"; fi
  fi
  log "stopped"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
