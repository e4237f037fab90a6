#include "orchestrator/cli/progress_printer.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "orchestrator/cli/terminal_text.h"

namespace orch {

std::string FormatDuration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof(buf), "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof(buf), "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof(buf), "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

bool ProgressPrinter::IsSmartTerminal(std::FILE* out) {
  const char* term = std::getenv("TERM");
  return ::isatty(fileno(out)) && term && std::strcmp(term, "dumb") != 0;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool smart, int total, int already_done,
                                 std::map<std::string, std::string> labels,
                                 std::optional<double> typical)
    : out_(out), smart_(smart), total_(total), done_(already_done), labels_(std::move(labels)),
      typical_s_(typical) {}

std::string ProgressPrinter::Label(const std::string& key) {
  auto it = labels_.find(key);
  if (it != labels_.end()) return it->second;
  if (!label_of_) return "";
  std::string label = label_of_(key);
  if (!label.empty()) labels_.emplace(key, label);
  return label;
}

void ProgressPrinter::OnStart(const store::Claim& claim, const std::string&) {
  if (label_of_) Label(claim.trial_key);  // looked up once, shown while it runs
}

void ProgressPrinter::OnSubmitted(const std::string& array_job, int trials, int tasks) {
  Finish();
  std::fprintf(out_, "submitted SLURM job array %s: %d trial(s) in %d task(s)\n",
               ForTerminal(array_job).c_str(), trials, tasks);
  std::fflush(out_);
}

void ProgressPrinter::OnNote(const std::string& line) {
  Finish();
  std::fprintf(stderr, "orch: %s\n", ForTerminal(line).c_str());
}

std::string ProgressPrinter::Eta(int running) const {
  double per = n_durations_ ? sum_s_ / n_durations_ : typical_s_.value_or(NAN);
  if (std::isnan(per)) return "";
  int left = processes_left_ >= 0 ? processes_left_ : total_ - done_;
  int parallel = std::max(1, running);
  return " | ETA " + FormatDuration(per * left / parallel);
}

void ProgressPrinter::OnTick(const std::vector<const RunningAttempt*>& running) {
  if (!smart_) return;
  std::string line = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] ";
  line += std::to_string(running.size()) + " running";
  for (const RunningAttempt* a : running) {
    auto label = labels_.find(a->claim().trial_key);  // OnStart looked it up
    line += " | " + (label != labels_.end() ? label->second : a->claim().trial_key.substr(0, 8));
    const auto& ev = a->events();
    if (ev.token() >= 0) {
      line += " tok " + std::to_string(ev.token());
      if (ev.total() > 0) line += "/" + std::to_string(ev.total());
    } else if (!ev.phase().empty()) {
      line += " " + ev.phase();
    }
    line += " " + FormatDuration(a->elapsed_s());
  }
  if (failures_) line += " | " + std::to_string(failures_) + " failed";
  line += Eta(static_cast<int>(running.size()));
  PrintLine(line);
}

void ProgressPrinter::PrintLine(const std::string& text) {
  winsize ws{};
  size_t width = ::ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 100;
  // Labels, phases and reasons come from specs and workers: escaped, so that no byte of
  // theirs moves the cursor; cut to the width, then repaired if the cut split a character.
  std::string line = ForTerminal(text);
  if (line.size() >= width) line = ValidUtf8(line.substr(0, width - 1));
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
  line_open_ = true;
  last_width_ = line.size();
}

void ProgressPrinter::OnFinish(const store::Claim& claim, const std::string& where,
                               const store::AttemptResult& r) {
  // A trial is done at its last replicate, or at a terminal failure of any.
  if (r.terminal && (r.outcome != "ok" || claim.replicate >= claim.replicates)) ++done_;
  if (r.outcome != "ok") ++failures_;
  if (processes_left_ >= 0) {
    // An ok replicate is one process fewer; a terminal failure ends its trial, so its
    // later replicates never run; a retry runs this replicate again (nothing changes).
    if (r.outcome == "ok") {
      --processes_left_;
    } else if (r.terminal) {
      processes_left_ -= std::max(1, claim.replicates - claim.replicate + 1);
    }
    processes_left_ = std::max(0, processes_left_);
  }
  if (r.outcome == "ok") {
    sum_s_ += r.duration_s;
    ++n_durations_;
  }
  std::string label = Label(claim.trial_key);
  if (!label.empty()) label = " " + label;
  if (label_of_) labels_.erase(claim.trial_key);  // a retry looks it up again
  std::string line = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] " +
                     r.outcome + " " + claim.trial_key.substr(0, 12) + label +
                     (claim.replicates > 1 ? " replicate " + std::to_string(claim.replicate) +
                                                 "/" + std::to_string(claim.replicates)
                                           : "") +
                     " (" + FormatDuration(r.duration_s) +
                     (show_where_ && !where.empty() ? ", " + where : "") + ")";
  if (!r.terminal) line += " -> will retry";
  if (r.outcome != "ok" && !r.reason.empty()) line += ": " + r.reason;
  line = ForTerminal(line);
  if (smart_) {
    std::fprintf(out_, "\r%s\x1b[K\n", line.c_str());
    line_open_ = false;
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void ProgressPrinter::Finish() {
  if (line_open_) {
    std::fprintf(out_, "\r\x1b[K");
    std::fflush(out_);
    line_open_ = false;
  }
}

}  // namespace orch
