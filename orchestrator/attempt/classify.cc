#include "orchestrator/attempt/classify.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_set>

#include "base/outcome.h"
#include "orchestrator/attempt/attempt_files.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch {
namespace {

// ReadTail looks at most this far back.
constexpr size_t kTailBytes = 16384;

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

// The outcomes a worker may report itself (docs/protocol.md). The rest (crash, timeout,
// hung, interrupted) are the orchestrator's judgement: a worker claiming `interrupted`
// must not get its trial rerun forever.
std::optional<OutcomeClass> WorkerOutcome(const nlohmann::json& v) {
  if (!v.is_string()) return std::nullopt;
  auto oc = ParseOutcome(v.get_ref<const std::string&>());
  if (!oc) return std::nullopt;
  switch (*oc) {
    case OutcomeClass::kOk:
    case OutcomeClass::kNan:
    case OutcomeClass::kOom:
    case OutcomeClass::kCudaError:
    case OutcomeClass::kBlocked:
    case OutcomeClass::kError:
      return oc;
    default:
      return std::nullopt;
  }
}

constexpr std::string_view kNonFinitePrefix("\0orch-nonfinite:", 16);

// Python's json.dump writes NaN, Infinity and -Infinity as bare literals, which are not
// JSON. Outside strings they are rewritten to marker strings that ReadNumber turns back
// into doubles, so a worker's non-finite metric is data, not a parse failure.
std::string RewriteNonFiniteLiterals(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (in_string) {
      out += c;
      ++i;
      if (c == '\\' && i < text.size()) out += text[i++];
      else if (c == '"') in_string = false;
      continue;
    }
    bool rewritten = false;
    for (std::string_view lit : {"-Infinity", "Infinity", "NaN"}) {
      if (text.compare(i, lit.size(), lit) == 0) {
        out += "\"\\u0000orch-nonfinite:";
        out += lit;
        out += '"';
        i += lit.size();
        rewritten = true;
        break;
      }
    }
    if (rewritten) continue;
    if (c == '"') in_string = true;
    out += c;
    ++i;
  }
  return out;
}

const char* TypeName(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "true/false";
  if (v.is_number()) return "a number";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "a list";
  if (v.is_null()) return "null";
  return "not a value";
}

bool IsNonFiniteMarker(const nlohmann::json& v) {
  if (!v.is_string()) return false;
  std::string_view s = v.get_ref<const std::string&>();
  return s.substr(0, kNonFinitePrefix.size()) == kNonFinitePrefix;
}

// A number of result.json: a JSON number, null or a non-finite literal (both NaN/inf).
bool ReadNumber(const nlohmann::json& v, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return true;
  }
  if (v.is_null()) {
    *out = std::nan("");
    return true;
  }
  if (!IsNonFiniteMarker(v)) return false;
  const std::string& s = v.get_ref<const std::string&>();
  std::string lit = s.substr(kNonFinitePrefix.size());
  *out = lit == "NaN"        ? std::nan("")
         : lit == "Infinity" ? HUGE_VAL
                             : -HUGE_VAL;
  return true;
}

// Marker strings inside free-form objects (details, environment) become null on dump.
void DropMarkers(nlohmann::json* v) {
  if (IsNonFiniteMarker(*v)) {
    *v = nullptr;
  } else if (v->is_structured()) {
    for (auto& x : *v) DropMarkers(&x);
  }
}

std::string WrongType(const std::string& where, const nlohmann::json& v, const char* want) {
  return where + " is " + TypeName(v) + ", not " + want;
}

// An integer that fits an int, written as a JSON integer (3.0 is accepted, "3" is not).
bool ReadInt(const nlohmann::json& v, int* out) {
  if (v.is_number_integer()) {
    long long x = v.is_number_unsigned() ? -1 : v.get<long long>();
    if (v.is_number_unsigned() && v.get<unsigned long long>() <= 0x7fffffffULL) {
      x = static_cast<long long>(v.get<unsigned long long>());
    }
    if (x < 0 || x > 0x7fffffff) return false;
    *out = static_cast<int>(x);
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!(d >= 0 && d <= 0x7fffffff) || d != std::floor(d)) return false;
    *out = static_cast<int>(d);
    return true;
  }
  return false;
}

// `samples`: one entry per repeat, each series a list of numbers (docs/protocol.md).
std::string ReadSamples(const nlohmann::json& samples, store::AttemptResult* r) {
  if (!samples.is_array()) return WrongType("samples", samples, "a list");
  std::set<int> repeats;  // one entry per repeat: the store keys samples by (repeat, index)
  for (size_t si = 0; si < samples.size(); ++si) {
    const auto& rep = samples[si];
    std::string where = "samples[" + std::to_string(si) + "]";
    if (!rep.is_object()) return WrongType(where, rep, "an object");
    int repeat = 0, warmup = 0;
    if (rep.contains("repeat") && !ReadInt(rep["repeat"], &repeat)) {
      return WrongType(where + ".repeat", rep["repeat"], "an integer >= 0");
    }
    if (!repeats.insert(repeat).second) {
      return where + ".repeat: repeat " + std::to_string(repeat) +
             " is given twice (each samples entry is one repeat)";
    }
    if (rep.contains("warmup") && !ReadInt(rep["warmup"], &warmup)) {
      return WrongType(where + ".warmup", rep["warmup"], "an integer >= 0");
    }
    static const nlohmann::json kEmpty = nlohmann::json::array();
    const nlohmann::json* series[2] = {&kEmpty, &kEmpty};
    const char* names[2] = {"latency_ms", "nll"};
    for (int k = 0; k < 2; ++k) {
      if (!rep.contains(names[k])) continue;
      series[k] = &rep[names[k]];
      if (!series[k]->is_array()) {
        return WrongType(where + "." + names[k], *series[k], "a list of numbers");
      }
    }
    const auto& lat = *series[0];
    const auto& nll = *series[1];
    size_t n = std::max(lat.size(), nll.size());
    for (size_t i = 0; i < n; ++i) {
      store::Sample s;
      s.repeat = repeat;
      s.index = static_cast<int>(i);
      s.latency_ms = s.nll = std::nan("");
      if (i < lat.size() && !ReadNumber(lat[i], &s.latency_ms)) {
        return WrongType(where + ".latency_ms[" + std::to_string(i) + "]", lat[i], "a number");
      }
      if (i < nll.size() && !ReadNumber(nll[i], &s.nll)) {
        return WrongType(where + ".nll[" + std::to_string(i) + "]", nll[i], "a number");
      }
      s.warmup = static_cast<int>(i) < warmup;
      r->samples.push_back(s);
    }
  }
  return "";
}

// result.json's text as JSON, or an error text: bare NaN/Infinity are read as numbers
// (RewriteNonFiniteLiterals); a syntax error or a number out of range (1e400) is named.
std::string ParseResultJson(const std::string& text, nlohmann::json* j) {
  if (text.size() > kMaxResultBytes) {
    return "result.json is larger than " + std::to_string(kMaxResultBytes >> 20) + " MiB";
  }
  try {
    *j = nlohmann::json::parse(RewriteNonFiniteLiterals(text));
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    for (const char* kind : {"parse error", "number overflow"}) {
      size_t at = what.find(kind);
      if (at != std::string::npos) {
        what = what.substr(at);
        break;
      }
    }
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    return "not valid JSON (truncated?): " + ValidUtf8(what);
  }
  if (!j->is_object()) return "the top level is " + std::string(TypeName(*j)) + ", not an object";
  return "";
}

// `outcome` (one a worker may report) and `reason`.
std::string ReadOutcome(const nlohmann::json& j, store::AttemptResult* r) {
  if (!j.contains("outcome")) return "outcome is missing";
  const nlohmann::json& outcome = j["outcome"];
  if (!outcome.is_string()) return WrongType("outcome", outcome, "a string");
  auto oc = WorkerOutcome(outcome);
  if (!oc) {
    std::string name = outcome.get<std::string>();
    if (name.size() > 64) name = name.substr(0, 64) + "...";
    return "unknown outcome '" + ValidUtf8(name) +
           "' (a worker reports ok, nan, oom, cuda_error, blocked or error)";
  }
  r->outcome = std::string(OutcomeName(*oc));
  if (j.contains("reason")) {
    const auto& v = j["reason"];
    if (v.is_string()) r->reason = v.get<std::string>();
    else if (!v.is_null()) return WrongType("reason", v, "a string");
  }
  return "";
}

// `metrics`: name -> number (null and the non-finite literals are NaN/inf).
std::string ReadMetrics(const nlohmann::json& m, store::AttemptResult* r) {
  if (!m.is_object()) return WrongType("metrics", m, "an object");
  for (const auto& [k, v] : m.items()) {
    double x = 0;
    if (!ReadNumber(v, &x)) return WrongType("metrics." + k, v, "a number");
    r->metrics[k] = x;
  }
  return "";
}

// `details` and `environment` (free-form objects, stored as JSON) and `warnings`.
std::string ReadFreeForm(const nlohmann::json& j, store::AttemptResult* r) {
  for (const char* field : {"details", "environment"}) {
    if (!j.contains(field)) continue;
    nlohmann::json v = j[field];
    if (!v.is_object()) return WrongType(field, v, "an object");
    DropMarkers(&v);
    (field == std::string("details") ? r->details_json : r->environment_json) = v.dump();
  }
  if (j.contains("warnings")) {
    const auto& w = j["warnings"];
    if (!w.is_array()) return WrongType("warnings", w, "a list of strings");
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < w.size(); ++i) {
      if (!w[i].is_string()) {
        return WrongType("warnings[" + std::to_string(i) + "]", w[i], "a string");
      }
      out.push_back(w[i]);
    }
    r->warnings_json = out.dump();
  }
  return "";
}

// Copies result.json's fields into the stored result; returns an error text if the
// file is not a valid protocol-1 result. Every field is type-checked: nothing a worker
// writes can throw out of here.
std::string ReadResult(const std::string& text, store::AttemptResult* r) {
  nlohmann::json j;
  if (std::string e = ParseResultJson(text, &j); !e.empty()) return e;
  if (std::string e = ReadOutcome(j, r); !e.empty()) return e;
  if (j.contains("metrics")) {
    if (std::string e = ReadMetrics(j["metrics"], r); !e.empty()) return e;
  }
  if (j.contains("samples")) {
    if (std::string e = ReadSamples(j["samples"], r); !e.empty()) return e;
  }
  return ReadFreeForm(j, r);
}

// A worker-provided text as stored: valid UTF-8, at most kMaxReasonBytes.
std::string StoredText(std::string_view text) {
  std::string out = ValidUtf8(text.substr(0, std::min(text.size(), kMaxReasonBytes)));
  if (text.size() > kMaxReasonBytes) out += " [...]";
  return out;
}

// The worker ended by itself (no kill of orch's): result.json if valid, else its last
// failure event, else what stderr, the signal or the exit code say.
void ClassifyWorkerEnd(const AttemptObservation& obs, store::AttemptResult* out) {
  store::AttemptResult& r = *out;
  static const std::regex kOom(
      R"(CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED|cudaErrorMemoryAllocation|out of memory)",
      std::regex::icase);
  static const std::regex kCuda(R"(CUDA error|cudaError|CUBLAS_STATUS_|CUDNN_STATUS_|NCCL error)");
  std::string result_error;
  if (obs.result_text) {
    store::AttemptResult parsed = r;
    result_error = ReadResult(*obs.result_text, &parsed);
    if (result_error.empty()) {
      r = std::move(parsed);
      return;
    }
  }
  if (obs.failure_event && obs.failure_event->is_object()) {
    const auto& f = *obs.failure_event;
    auto oc = f.contains("outcome") ? WorkerOutcome(f["outcome"]) : std::nullopt;
    if (oc) {
      r.outcome = std::string(OutcomeName(*oc));
      if (f.contains("message") && f["message"].is_string()) {
        r.reason = f["message"].get<std::string>();
      }
      return;
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
                                    : "invalid result.json: " + result_error;
  }
}

// Warnings from the result and from events, without duplicates, in order: linear in
// their number (a hash set), each valid UTF-8 so that dump() cannot throw.
std::string MergeWarnings(const std::string& result_warnings_json,
                          const std::vector<std::string>& event_warnings) {
  nlohmann::json w = nlohmann::json::parse(result_warnings_json, nullptr, false);
  if (!w.is_array()) w = nlohmann::json::array();
  nlohmann::json out = nlohmann::json::array();
  std::unordered_set<std::string> seen;
  auto add = [&](const std::string& msg) {
    std::string text = StoredText(msg);
    if (seen.insert(text).second) out.push_back(std::move(text));
  };
  for (const auto& msg : w) {
    if (msg.is_string()) add(msg.get<std::string>());
  }
  for (const auto& msg : event_warnings) add(msg);
  return out.dump();
}

}  // namespace

store::AttemptResult Classify(const AttemptObservation& obs) {
  store::AttemptResult r;
  r.duration_s = obs.duration_s;
  r.stderr_tail = ValidUtf8(obs.stderr_tail);
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
    case KillReason::kNone:
      ClassifyWorkerEnd(obs, &r);
      break;
  }
  r.reason = StoredText(r.reason);
  r.warnings_json = MergeWarnings(r.warnings_json, obs.event_warnings);
  return r;
}

std::optional<std::string> ReadResultFile(const std::string& path) {
  // One byte more than the cap, so that ReadResult can tell an oversized file; the
  // buffer is the file's size, not the cap (zero-filling 64 MiB per result was most of
  // orch's per-trial cost, issue 18).
  return ReadAttemptFile(path, kMaxResultBytes + 1);
}

std::string ReadTail(const std::string& path, int max_lines) {
  bool cut = false;
  std::optional<std::string> data = ReadAttemptFileTail(path, kTailBytes, &cut);
  if (!data) return "";
  std::vector<std::string> lines;
  std::istringstream ss(*data);
  std::string line;
  bool first = cut;  // the first line may be cut
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
