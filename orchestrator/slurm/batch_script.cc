#include "orchestrator/slurm/batch_script.h"

#include "orchestrator/attempt/attempt_files.h"

namespace orch::slurm {
namespace {

// The worker's parent in the task (perl: in every SLURM installation, whose own tools use
// it): it records the worker's wait status, not the shell's 128+N, so an exit code of
// 129..192 is not taken for a signal (L5), as "exit N" or "signal N"; and it caps
// worker.log as orch does locally (L4, bounded_log.h): the first 1 MiB and the last
// 4 MiB, with one line saying how much was dropped between them. Without perl the
// script falls back to the shell's `$?` (a bare number: 129..192 read as signals).
constexpr const char* kRunWorker = R"SH(PERL=$(command -v perl || true)
read -r -d '' RUN_WORKER <<'PERL'
use strict; use warnings; use POSIX ();
my ($log, $status, @cmd) = @ARGV;
my ($HEAD, $TAIL) = (1 << 20, 4 << 20);
pipe(my $r, my $w) or die "orch: pipe: $!";
my $pid = fork() // die "orch: fork: $!";
if ($pid == 0) {
  close $r; open(STDOUT, '>&', $w); open(STDERR, '>&', $w); close $w;
  exec { $cmd[0] } @cmd or print STDERR "orch: cannot run $cmd[0]: $!\n";
  POSIX::_exit(127);
}
close $w;
open(my $out, '>', $log) or die "orch: $log: $!";
my ($head, $tail, $dropped) = (0, '', 0);
while (1) {
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
waitpid($pid, 0);
my $st = $?;
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
       " \"$w\" --trial \"$d/" + kTrialFileName + "\" < /dev/null\n" +
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
