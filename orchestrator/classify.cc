#include "orchestrator/classify.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/outcome.h"

namespace orch {
namespace {

std::string LastLine(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last;
}

// The first stderr line matching `re`, else the last line.
std::string LineMatching(const std::string& text, const std::regex& re) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (std::regex_search(line, re)) return line;
  }
  return LastLine(text);
}

std::string FormatSeconds(double s) {
  std::ostringstream o;
  o << s;
  return o.str();
}

// Copies result.json's fields into the stored result; returns an error text if the
// file is not a valid protocol-1 result.
std::string ReadResult(const std::string& text, store::AttemptResult* r) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return "result.json is not a JSON object";
  if (!j.contains("outcome") || !j["outcome"].is_string()) return "result.json has no outcome";
  auto oc = ParseOutcome(j["outcome"].get<std::string>());
  if (!oc) return "result.json has unknown outcome '" + j["outcome"].get<std::string>() + "'";
  r->outcome = std::string(OutcomeName(*oc));
  if (j.contains("reason") && j["reason"].is_string()) r->reason = j["reason"];
  if (j.contains("metrics") && j["metrics"].is_object()) {
    for (const auto& [k, v] : j["metrics"].items()) {
      if (v.is_number()) r->metrics[k] = v.get<double>();
      else if (v.is_null()) r->metrics[k] = std::nan("");
    }
  }
  if (j.contains("samples") && j["samples"].is_array()) {
    for (const auto& rep : j["samples"]) {
      if (!rep.is_object()) continue;
      int repeat = rep.value("repeat", 0);
      int warmup = rep.value("warmup", 0);
      const auto& lat = rep.contains("latency_ms") ? rep["latency_ms"] : nlohmann::json::array();
      const auto& nll = rep.contains("nll") ? rep["nll"] : nlohmann::json::array();
      size_t n = std::max(lat.size(), nll.size());
      for (size_t i = 0; i < n; ++i) {
        store::Sample s;
        s.repeat = repeat;
        s.index = static_cast<int>(i);
        s.latency_ms = i < lat.size() && lat[i].is_number() ? lat[i].get<double>() : std::nan("");
        s.nll = i < nll.size() && nll[i].is_number() ? nll[i].get<double>() : std::nan("");
        s.warmup = static_cast<int>(i) < warmup;
        r->samples.push_back(s);
      }
    }
  }
  if (j.contains("details") && j["details"].is_object()) r->details_json = j["details"].dump();
  if (j.contains("environment") && j["environment"].is_object()) {
    r->environment_json = j["environment"].dump();
  }
  if (j.contains("warnings") && j["warnings"].is_array()) {
    nlohmann::json w = nlohmann::json::array();
    for (const auto& x : j["warnings"]) {
      if (x.is_string()) w.push_back(x);
    }
    r->warnings_json = w.dump();
  }
  return "";
}

}  // namespace

store::AttemptResult Classify(const AttemptObservation& obs) {
  static const std::regex kOom(
      R"(CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED|cudaErrorMemoryAllocation|out of memory)",
      std::regex::icase);
  static const std::regex kCuda(R"(CUDA error|cudaError|CUBLAS_STATUS_|CUDNN_STATUS_|NCCL error)");
  store::AttemptResult r;
  r.duration_s = obs.duration_s;
  r.stderr_tail = obs.stderr_tail;
  if (obs.exit.signaled) r.signal = obs.exit.code;
  else r.exit_code = obs.exit.code;

  switch (obs.killed_for) {
    case KillReason::kTimeout:
      r.outcome = "timeout";
      r.reason = "exceeded timeout of " + FormatSeconds(obs.limit_s) + " s";
      break;
    case KillReason::kHung:
      r.outcome = "hung";
      r.reason = "no event for " + FormatSeconds(obs.limit_s) + " s (heartbeat_timeout)";
      break;
    case KillReason::kInterrupted:
      r.outcome = "interrupted";
      r.reason = "interrupted by the user";
      break;
    case KillReason::kNone: {
      std::string result_error;
      if (obs.result_text) {
        store::AttemptResult parsed = r;
        result_error = ReadResult(*obs.result_text, &parsed);
        if (result_error.empty()) {
          r = std::move(parsed);
          break;
        }
      }
      if (obs.failure_event) {
        const auto& f = *obs.failure_event;
        auto oc = f.contains("outcome") && f["outcome"].is_string()
                      ? ParseOutcome(f["outcome"].get<std::string>())
                      : std::nullopt;
        if (oc) {
          r.outcome = std::string(OutcomeName(*oc));
          r.reason = f.value("message", std::string());
          break;
        }
      }
      if (std::regex_search(obs.stderr_tail, kOom)) {
        r.outcome = "oom";
        r.reason = LineMatching(obs.stderr_tail, kOom);
      } else if (std::regex_search(obs.stderr_tail, kCuda)) {
        r.outcome = "cuda_error";
        r.reason = LineMatching(obs.stderr_tail, kCuda);
      } else if (obs.exit.signaled) {
        r.outcome = "crash";
        r.reason = SignalName(obs.exit.code);
        std::string last = LastLine(obs.stderr_tail);
        if (!last.empty()) r.reason += ": " + last;
      } else if (obs.exit.code != 0) {
        r.outcome = "error";
        r.reason = "exit code " + std::to_string(obs.exit.code);
        std::string last = LastLine(obs.stderr_tail);
        if (!last.empty()) r.reason += ": " + last;
      } else {
        r.outcome = "error";
        r.reason = result_error.empty() ? "the worker exited 0 without writing result.json"
                                        : "invalid result: " + result_error;
      }
    }
  }
  // Warnings from events and from the result, without duplicates, in order.
  nlohmann::json w = nlohmann::json::parse(r.warnings_json, nullptr, false);
  if (!w.is_array()) w = nlohmann::json::array();
  for (const auto& msg : obs.event_warnings) {
    if (std::find(w.begin(), w.end(), msg) == w.end()) w.push_back(msg);
  }
  r.warnings_json = w.dump();
  return r;
}

std::string ReadTail(const std::string& path, int max_lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - 16384);
  in.seekg(start);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  std::istringstream ss(data);
  std::string line;
  bool first = start > 0;  // the first line may be cut
  while (std::getline(ss, line)) {
    if (first) {
      first = false;
      continue;
    }
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  }
  std::string out;
  size_t from = lines.size() > static_cast<size_t>(max_lines) ? lines.size() - max_lines : 0;
  for (size_t i = from; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

}  // namespace orch
