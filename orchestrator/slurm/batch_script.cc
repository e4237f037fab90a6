#include "orchestrator/slurm/batch_script.h"

#include "orchestrator/attempt/attempt_files.h"

namespace orch::slurm {
namespace {

// The worker's parent in the task (perl: in every SLURM installation, whose own tools use
// it): it records the worker's wait status, not the shell's 128+N, so an exit code of
// 129..192 is not taken for a signal (L5), as "exit N" or "signal N"; and it caps what
// the worker leaves on the shared disk (L4):
//  - worker.log as orch does locally (bounded_log.h): the first 1 MiB and the last
//    4 MiB, with one line saying how much was dropped between them;
//  - events.jsonl, which the worker appends to itself under SLURM: once a second the
//    parent stats it, and when it has grown past 1 + 2 x 4 MiB it reads the last 4 MiB,
//    pauses the worker (SIGSTOP: no append can fall between the read and the cut),
//    reads what was appended meanwhile, keeps the first 1 MiB and the last 4 MiB (each
//    cut at a line boundary) with one `warning` event between them saying how many
//    bytes were dropped, and lets the worker go on (SIGCONT): a pause of a truncate and
//    a 4 MiB write, once per 4 MiB of events. After the worker ends the file is cut to
//    1 + 4 MiB the same way, before exit_status is written. The last events (the
//    `failure` event classification reads) are always kept, heartbeats keep changing
//    the file's mtime, and the warning reaches the attempt's warnings as the local
//    executor's "dropped an event line longer than 1 MiB" does. The worker must append
//    (O_APPEND, docs/protocol.md) for the cut to leave its later lines whole.
// Without perl the script falls back to the shell's `$?` (a bare number: 129..192 read as
// signals) and neither file is capped.
constexpr const char* kRunWorker = R"SH(PERL=$(command -v perl || true)
read -r -d '' RUN_WORKER <<'PERL'
use strict; use warnings; use POSIX (); use Fcntl ();
my ($log, $status, $events, @cmd) = @ARGV;
my ($HEAD, $TAIL) = (1 << 20, 4 << 20);
my ($EHEAD, $ETAIL) = (1 << 20, 4 << 20);
pipe(my $r, my $w) or die "orch: pipe: $!";
my $pid = fork() // die "orch: fork: $!";
if ($pid == 0) {
  close $r; open(STDOUT, '>&', $w); open(STDERR, '>&', $w); close $w;
  exec { $cmd[0] } @cmd or print STDERR "orch: cannot run $cmd[0]: $!\n";
  POSIX::_exit(127);
}
close $w;
my ($st, $ekeep, $emark, $edropped, $checked) = (undef, undef, 0, 0, time);
sub readat { my ($fh, $at, $n) = @_; my $d = ''; sysseek($fh, $at, 0) or return '';
  while (length($d) < $n) { my $k = sysread($fh, $d, $n - length($d), length $d); last unless $k; } $d }
sub cap_events {
  my ($limit) = @_;
  sysopen(my $fh, $events, Fcntl::O_RDWR() | Fcntl::O_NOFOLLOW() | Fcntl::O_NONBLOCK()) or return;
  return unless -f $fh && -s _ > $limit;
  my $size = -s _;
  if (!defined $ekeep) { my $h = readat($fh, 0, $EHEAD); $ekeep = rindex($h, "\n") + 1; }
  my $t = readat($fh, $size - $ETAIL, $ETAIL);
  my $stopped = 0;
  if (!defined $st) {
    kill 'STOP', $pid;
    my $k = waitpid($pid, POSIX::WUNTRACED());
    if ($k == $pid && POSIX::WIFSTOPPED(${^CHILD_ERROR_NATIVE})) { $stopped = 1 } elsif ($k == $pid) { $st = $? }
  }
  my $now = -s $fh;
  $t .= readat($fh, $size, $now - $size) if $now > $size;
  $t = substr($t, -$ETAIL) if length($t) > $ETAIL;
  my $nl = index($t, "\n"); $t = $nl < 0 ? '' : substr($t, $nl + 1);
  $edropped += $now - length($t) - $ekeep - $emark;
  my $m = "{\"event\":\"warning\",\"message\":\"orch: $edropped bytes of worker events dropped here (under SLURM events.jsonl keeps the first 1 MiB and the last 4 MiB)\",\"t\":" . time . "}\n";
  if (truncate($fh, $ekeep)) { sysseek($fh, $ekeep, 0); syswrite($fh, $m . $t); $emark = length $m; }
  kill 'CONT', $pid if $stopped;
  close $fh;
}
sub tick { if (time != $checked) { $checked = time; cap_events($EHEAD + 2 * $ETAIL); } }
open(my $out, '>', $log) or die "orch: $log: $!";
my ($head, $tail, $dropped) = (0, '', 0);
while (1) {
  my $rin = ''; vec($rin, fileno($r), 1) = 1;
  my $ready = select(my $rout = $rin, undef, undef, 1);
  tick();
  next if $ready <= 0;
  my $n = sysread($r, my $buf, 1 << 16);
  if (!defined $n) { next if $!{EINTR}; last; }
  last if $n == 0;
  if ($head < $HEAD) { my $part = substr($buf, 0, $HEAD - $head, ''); syswrite($out, $part); $head += length $part; }
  next unless length $buf;
  $tail .= $buf;
  if (length($tail) > 2 * $TAIL) { $dropped += length($tail) - $TAIL; $tail = substr($tail, -$TAIL); }
}
if (length($tail) > $TAIL) { $dropped += length($tail) - $TAIL; $tail = substr($tail, -$TAIL); }
syswrite($out, "\n[orch: $dropped bytes of worker output dropped here; the first and last part are kept]\n") if $dropped;
syswrite($out, $tail);
close $out;
until (defined $st) {
  my $k = waitpid($pid, POSIX::WNOHANG());
  if ($k == $pid) { $st = $?; last; }
  tick(); select(undef, undef, undef, 0.1);
}
cap_events($EHEAD + $ETAIL + 1024);
open(my $s, '>', "$status.tmp") or die "orch: $status.tmp: $!";
print $s (($st & 127) ? "signal " . ($st & 127) : "exit " . ($st >> 8)), "\n";
close $s;
rename("$status.tmp", $status) or die "orch: $status: $!";
PERL
)SH" "\n";

}  // namespace


std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string RenderBatchScript(const BatchScript& b) {
  std::string s = "#!/bin/bash\n";
  std::string comment = b.comment;
  for (char& c : comment) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  s += "# " + comment + "\n";
  s += "# Written by orch (orchestrator/slurm/batch_script.h); array task i runs attempts\n"
       "# i*K .. i*K+K-1 one after another.\n";
  s += "set -u\n";
  s += "export ORCH_PROTOCOL=1\n";
  s += "export CUDA_DEVICE_ORDER=${CUDA_DEVICE_ORDER:-PCI_BUS_ID}\n";
  s += "if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ] && [ -z \"${ORCH_WORKER_THREADS:-}\" ]; then\n"
       "  export ORCH_WORKER_THREADS=$SLURM_CPUS_PER_TASK\n"
       "fi\n";
  s += "K=" + std::to_string(b.trials_per_task) + "\n";
  s += "DIRS=(\n";
  for (const auto& d : b.attempt_dirs) s += "  " + ShellQuote(d) + "\n";
  s += ")\n";
  s += "WORKERS=(\n";  // the cell's worker (config `worker`), one per attempt
  for (const auto& w : b.workers) s += "  " + ShellQuote(w) + "\n";
  s += ")\n";
  s += "first=$(( ${SLURM_ARRAY_TASK_ID:?not an array task} * K ))\n";
  s += kRunWorker;
  s += "for (( i = first; i < first + K && i < ${#DIRS[@]}; i++ )); do\n"
       "  d=${DIRS[i]}\n"
       "  w=${WORKERS[i]}\n"
       "  cd \"$d\" || continue\n";
  s += std::string("  [ -e ") + kAbandonedFileName + " ] && continue\n";
  s += std::string("  echo \"${SLURM_JOB_ID:-} $(date +%s)\" > ") + kStartedFileName + "\n";
  s += std::string("  if [ -n \"$PERL\" ]; then\n") +
       "    \"$PERL\" -e \"$RUN_WORKER\" " + kWorkerLogFileName + " " + kExitStatusFileName +
       " " + kEventsFileName + " \"$w\" --trial \"$d/" + kTrialFileName + "\" < /dev/null\n" +
       "  else\n" +
       "    \"$w\" --trial \"$d/" + kTrialFileName + "\" > " + kWorkerLogFileName + " 2>&1 < /dev/null\n" +
       "    rc=$?\n" +
       "    echo \"$rc\" > " + kExitStatusFileName + ".tmp && mv -f " + kExitStatusFileName +
       ".tmp " + kExitStatusFileName + "\n" +
       "  fi\n"
       "done\n"
       "exit 0\n";
  return s;
}

}  // namespace orch::slurm
