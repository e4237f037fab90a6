// ProgressPrinter: what `orch run` shows while a sweep runs. On a terminal: one line,
// rewritten in place (done/total, running trials with their token progress, failures,
// ETA from past durations), like ninja's status line. Otherwise: one line per finished
// trial, for logs. The one RunSink (executor.h) of `orch run`, for either executor; the
// only place that prints progress; single-threaded.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "orchestrator/executor.h"
#include "orchestrator/local/running_attempt.h"

namespace orch {

class ProgressPrinter : public RunSink {
 public:
  // `labels`: trial key -> "A quant=int8wo window=256" for display.
  ProgressPrinter(std::FILE* out, bool smart_terminal, int total, int already_done,
                  std::map<std::string, std::string> labels,
                  std::optional<double> typical_duration_s);
  void OnStart(const store::Claim& claim, const std::string& where) override;
  void OnSubmitted(const std::string& array_job, int trials, int tasks) override;
  void OnTick(const std::vector<const RunningAttempt*>& running) override;
  void OnFinish(const store::Claim& claim, const std::string& where,
                const store::AttemptResult& result) override;
  void OnNote(const std::string& line) override;  // to stderr, as "orch: ..."
  // Name where each attempt ran in its line ("on job 12345_7"): on for SLURM, where the
  // job id is what `sacct` and the SLURM output file know it by.
  void ShowWhere(bool show) { show_where_ = show; }
  // Worker processes still to run (the unfinished trials' missing replicates); the ETA
  // counts these, not trials: with `repeats: N` each trial is N processes. Unset: trials.
  void SetProcessesLeft(int n) { processes_left_ = n; }
  // Ends the status line (call before printing anything else).
  void Finish();
  int failures() const { return failures_; }

  // Decides whether `out` is a smart terminal (a tty, TERM not dumb).
  static bool IsSmartTerminal(std::FILE* out);

 private:
  void PrintLine(const std::string& text);
  std::string Eta(int running) const;
  std::FILE* out_;
  bool smart_;
  int total_, done_;
  int failures_ = 0;
  int processes_left_ = -1;
  std::map<std::string, std::string> labels_;
  std::optional<double> typical_s_;
  double sum_s_ = 0;
  int n_durations_ = 0;
  bool line_open_ = false;
  bool show_where_ = false;
  size_t last_width_ = 0;
};

std::string FormatDuration(double seconds);

}  // namespace orch
