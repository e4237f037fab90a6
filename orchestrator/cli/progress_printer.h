// ProgressPrinter: what `orch run` shows while a sweep runs. On a terminal: one line,
// rewritten in place (done/total, running trials with their token progress, failures,
// ETA from past durations), like ninja's status line. Otherwise: one line per finished
// trial, for logs. The one RunSink (executor.h) of `orch run`, for either executor; the
// only place that prints progress; single-threaded.
#pragma once

#include <cstdio>
#include <functional>
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
  // Labels looked up when a trial starts (or finishes, if it was not seen starting) and
  // kept only while it runs, for trials not in `labels`: `orch run` of a 100,000-trial
  // sweep holds no label map (issue 18). `label_of` returns "" for an unknown key.
  void SetLabelLookup(std::function<std::string(const std::string& key)> label_of) {
    label_of_ = std::move(label_of);
  }
  // Ends the status line (call before printing anything else).
  void Finish();
  int failures() const { return failures_; }

  // Decides whether `out` is a smart terminal (a tty, TERM not dumb).
  static bool IsSmartTerminal(std::FILE* out);

 private:
  void PrintLine(const std::string& text);
  std::string Eta(int running) const;
  // The trial's label ("" when unknown), from `labels_` or looked up and kept there.
  std::string Label(const std::string& key);
  std::FILE* out_;
  bool smart_;
  int total_, done_;
  int failures_ = 0;
  int processes_left_ = -1;
  // The labels given, and those of the running trials that label_of_ looked up.
  std::map<std::string, std::string> labels_;
  std::function<std::string(const std::string&)> label_of_;
  std::optional<double> typical_s_;
  double sum_s_ = 0;
  int n_durations_ = 0;
  bool line_open_ = false;
  bool show_where_ = false;
  size_t last_width_ = 0;
};

std::string FormatDuration(double seconds);

}  // namespace orch
