// fake_worker: a worker that speaks protocol 1 (docs/protocol.md) and does what the
// trial's `x_behavior` says, so the orchestrator's supervision, classification, retries
// and resume are tested without LibTorch or a GPU. Behaviours:
//   ok (default)  result ok with metrics and per-token samples
//   crash         SIGSEGV after a heartbeat           -> crash
//   exit          "fatal: bad things" on stderr, exit 3 -> error
//   oom           CUDA OOM text on stderr, exit 1      -> oom
//   cuda_error    CUDA error text on stderr, exit 1    -> cuda_error
//   nan           result outcome nan with details     -> nan
//   blocked       result outcome blocked with reason  -> blocked
//   hang          heartbeats forever                  -> timeout
//   silent        no events, sleeps                   -> hung
//   flaky         crash on attempt 1, ok afterwards   -> ok after a retry
//   sleep         ok after x_sleep seconds of heartbeats (for resume tests)
//   failure_event emits a failure event (oom) then aborts -> oom
//   memhog        touches x_mem_mb MiB (default 400) of memory, then sleeps 60 s with
//                 heartbeats (under SLURM's --mem the job's memory limit kills it -> oom)
// Hostile workers (docs/protocol.md is all they read, and they misread it):
//   bad_type        result.json with "repeat": "0"                -> error (invalid result.json)
//   nan_literals    result.json with bare NaN / Infinity (Python) -> ok, non-finite metrics
//   duplicate_repeat two samples entries for repeat 0 -> error
//   number_overflow a number beyond double's range (1e400) -> error
//   unknown_outcome result.json with outcome "splendid"           -> error
//   bad_utf8        result.json with an invalid UTF-8 reason      -> error (not valid JSON)
//   truncated       result.json cut in the middle                 -> error (not valid JSON)
//   huge            result.json over 64 MiB                       -> error (too large)
//   claims_interrupted result.json claiming outcome interrupted   -> error (not retried)
//   garbage_events  garbage lines, a 2 MiB line without newline, ESC sequences and an
//                   invalid-UTF-8 warning, then a failure event (blocked) whose message
//                   holds ESC, CR and newlines, then exit 1          -> blocked
//   bad_stderr      invalid UTF-8 and ESC sequences on stderr, exit 3 -> error
//   fifo_result     result.json is a FIFO nobody writes, exit 0     -> error
// Optional: x_marker=PATH appends "<key> <attempt>\n" to PATH when the trial completes ok;
// x_fail_replicate=N makes replicate N (trial.json's `replicate`) behave as `exit`;
// x_reason=TEXT is the reason a `blocked` trial gives (the report's escaping tests);
// x_report_inputs=1 puts trial.json's inputs.dataset into the result's details as
// `dataset_seen` (which inputs an attempt was really given).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

FILE* g_events = nullptr;

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Emit(nlohmann::json ev) {
  ev["t"] = Now();
  std::fprintf(g_events, "%s\n", ev.dump().c_str());
  std::fflush(g_events);
}

void WriteRaw(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

void EmitRaw(const std::string& bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), g_events);
  std::fflush(g_events);
}

void WriteResult(const std::string& path, const nlohmann::json& result) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << result.dump() << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--trial") {
    std::fprintf(stderr, "usage: fake_worker --trial trial.json\n");
    return 2;
  }
  std::ifstream in(argv[2]);
  nlohmann::json trial = nlohmann::json::parse(in);
  const auto& config = trial["config"];
  std::string behavior = config.value("x_behavior", "ok");
  int attempt = trial["attempt"];
  g_events = std::fopen(trial["events_path"].get<std::string>().c_str(), "w");
  if (!g_events) return 4;
  Emit({{"event", "started"}, {"pid", getpid()}, {"protocol", 1}});
  Emit({{"event", "phase"}, {"name", "decode"}});
  std::string result_path = trial["result_path"];
  nlohmann::json result = {{"protocol", 1}, {"outcome", "ok"}};

  if (behavior == "flaky") behavior = attempt == 1 ? "crash" : "ok";
  // x_fail_replicate=N: replicate N (trial.json's `replicate`) fails with an error.
  if (config.contains("x_fail_replicate") &&
      std::to_string(trial.value("replicate", 1)) == config["x_fail_replicate"].get<std::string>()) {
    behavior = "exit";
  }
  if (behavior == "crash") {
    Emit({{"event", "heartbeat"}, {"token", 1}});
    std::fprintf(stderr, "about to crash\n");
    std::fflush(stderr);
    std::raise(SIGSEGV);
  } else if (behavior == "exit") {
    std::fprintf(stderr, "loading...\nfatal: bad things\n");
    return 3;
  } else if (behavior == "oom") {
    std::fprintf(stderr,
                 "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n");
    return 1;
  } else if (behavior == "cuda_error") {
    std::fprintf(stderr, "CUDA error: an illegal memory access was encountered\n");
    return 1;
  } else if (behavior == "failure_event") {
    Emit({{"event", "failure"}, {"outcome", "oom"}, {"message", "allocator gave up"}});
    std::abort();
  } else if (behavior == "hang") {
    for (long i = 0;; ++i) {
      Emit({{"event", "heartbeat"}, {"token", i}});
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } else if (behavior == "memhog") {
    long mb = std::atol(config.value("x_mem_mb", "400").c_str());
    std::vector<char*> blocks;
    for (long i = 0; i < mb; ++i) {
      char* b = static_cast<char*>(std::malloc(1 << 20));
      if (!b) return 5;
      std::memset(b, 1, 1 << 20);
      blocks.push_back(b);
      if (i % 16 == 0) Emit({{"event", "heartbeat"}, {"token", i}});
    }
    for (int i = 0; i < 600; ++i) {
      Emit({{"event", "heartbeat"}, {"token", mb + i}});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } else if (behavior == "silent") {
    std::this_thread::sleep_for(std::chrono::hours(1));
  } else if (behavior == "nan") {
    result["outcome"] = "nan";
    result["reason"] = "non-finite logits at token 7";
    result["details"] = {{"nan_token", 7}, {"nan_layer", "gpt_neox.layers.2"}};
  } else if (behavior == "blocked") {
    result["outcome"] = "blocked";
    result["reason"] = config.value("x_reason", "int4wo-g32 needs a CUDA int4 kernel; device is cpu");
  } else if (behavior == "bad_type") {
    WriteRaw(result_path, R"({"protocol":1,"outcome":"ok","metrics":{"ppl":9.5},)"
                          R"("samples":[{"repeat":"0","warmup":0,)"
                          R"("latency_ms":[1.0],"nll":[2.0]}]})");
    return 0;
  } else if (behavior == "nan_literals") {
    WriteRaw(result_path, R"({"protocol": 1, "outcome": "ok", "metrics": {"ppl": NaN, )"
                          R"("tpot_ms_median": Infinity, "delta": -Infinity, )"
                          R"("tokens_evaluated": 4}, )"
                          R"("samples": [{"repeat": 0, "warmup": 0, "latency_ms": [1.0, NaN], )"
                          R"("nll": [Infinity, 2.0]}]})");
    return 0;
  } else if (behavior == "duplicate_repeat") {
    WriteRaw(result_path, R"({"protocol":1,"outcome":"ok","samples":[)"
                          R"({"latency_ms":[1.0]},{"latency_ms":[2.0]}]})");
    return 0;
  } else if (behavior == "number_overflow") {
    WriteRaw(result_path, R"({"protocol":1,"outcome":"ok","metrics":{"ppl":1e400}})");
    return 0;
  } else if (behavior == "unknown_outcome") {
    WriteRaw(result_path, R"({"protocol":1,"outcome":"splendid"})");
    return 0;
  } else if (behavior == "claims_interrupted") {
    WriteRaw(result_path, R"({"protocol":1,"outcome":"interrupted"})");
    return 0;
  } else if (behavior == "bad_utf8") {
    WriteRaw(result_path, "{\"protocol\":1,\"outcome\":\"blocked\",\"reason\":\"caf\xe9 \xff\"}");
    return 0;
  } else if (behavior == "truncated") {
    WriteRaw(result_path, R"({"protocol":1,"outcome":"ok","metrics":{"ppl":9.)");
    return 0;
  } else if (behavior == "huge") {
    std::string text = R"({"protocol":1,"outcome":"ok","details":{"pad":")";
    text.append(size_t{65} << 20, 'x');
    WriteRaw(result_path, text + "\"}}");
    return 0;
  } else if (behavior == "garbage_events") {
    EmitRaw("not json\n{\"event\":42}\n[1,2]\n{\"event\":\"heartbeat\",\"token\":\"x\"}\n");
    EmitRaw("{\"event\":\"phase\",\"name\":\"\\u001b[2J\\u001b]0;pwned\\u0007\"}\n");
    EmitRaw("{\"event\":\"warning\",\"message\":\"caf\xe9\"}\n");
    EmitRaw(std::string(size_t{2} << 20, 'y'));  // no newline: capped and dropped
    EmitRaw("\n");
    Emit({{"event", "warning"}, {"message", "\x1b[31mred warning\x1b[0m"}});
    Emit({{"event", "failure"}, {"outcome", "blocked"},
          {"message", "needs a kernel\x1b[2J\r\nsecond line\xc2\x9b"}});
    return 1;
  } else if (behavior == "fifo_result") {
    return ::mkfifo(result_path.c_str(), 0600) == 0 ? 0 : 5;
  } else if (behavior == "bad_stderr") {
    std::fprintf(stderr, "fatal: caf\xe9 \x1b[2J\x1b]0;pwned\x07 done\r\n");
    return 3;
  } else if (behavior == "sleep") {
    double s = std::atof(config.value("x_sleep", "1").c_str());
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(long(s * 1000));
    for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
      Emit({{"event", "heartbeat"}, {"token", i}});
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (result["outcome"] == "ok") {
    int n = config.value("tokens", 16);
    n = std::min(n, 64);
    nlohmann::json lat = nlohmann::json::array(), nll = nlohmann::json::array();
    unsigned seed = static_cast<unsigned>(config.value("seed", 0)) * 7919u + 17u;
    for (int i = 0; i < n; ++i) {
      seed = seed * 1103515245u + 12345u;
      lat.push_back(1.0 + (seed % 1000) / 10000.0);
      nll.push_back(2.0 + (seed % 997) / 1000.0);
    }
    result["metrics"] = {{"ppl", 9.5}, {"tpot_ms_median", 1.05}, {"tokens_evaluated", n}};
    result["samples"] = {{{"repeat", 0}, {"warmup", 2}, {"latency_ms", lat}, {"nll", nll}}};
    result["environment"] = {{"device_name", "fake"}};
    result["warnings"] = {"fake worker: numbers are synthetic"};
    if (config.value("x_report_inputs", "") == "1") {
      result["details"] = {{"dataset_seen", trial["inputs"].value("dataset", "")}};
    }
  }
  WriteResult(result_path, result);
  if (result["outcome"] == "ok" && config.contains("x_marker")) {
    std::ofstream marker(config["x_marker"].get<std::string>(), std::ios::app);
    marker << trial["trial_key"].get<std::string>() << " " << attempt << "\n";
  }
  return 0;
}
