// Classification of attempts from what was observed (docs/protocol.md).
#include "orchestrator/attempt/classify.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>

namespace orch {
namespace {

AttemptObservation Exited(int code, const std::string& stderr_tail = "") {
  AttemptObservation o;
  o.exit = {false, code};
  o.stderr_tail = stderr_tail;
  return o;
}

TEST(Classify, ResultFileDecidesWhenPresent) {
  AttemptObservation o = Exited(0);
  o.result_text = R"({"protocol":1,"outcome":"nan","reason":"token 3","details":{"nan_token":3},
    "metrics":{"ppl":null,"x":2},"samples":[{"repeat":0,"warmup":1,"latency_ms":[1,2],"nll":[0.5,0.25]}]})";
  auto r = Classify(o);
  EXPECT_EQ(r.outcome, "nan");
  EXPECT_EQ(r.reason, "token 3");
  EXPECT_EQ(r.details_json, R"({"nan_token":3})");
  EXPECT_TRUE(std::isnan(r.metrics["ppl"]));
  EXPECT_EQ(r.metrics["x"], 2);
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_TRUE(r.samples[0].warmup);
  EXPECT_FALSE(r.samples[1].warmup);
  EXPECT_EQ(r.samples[1].nll, 0.25);
}

TEST(Classify, OrchestratorKillReasonComesFirst) {
  AttemptObservation o = Exited(0);
  o.exit = {true, SIGKILL};
  o.killed_for = KillReason::kTimeout;
  o.limit_s = 30;
  EXPECT_EQ(Classify(o).outcome, "timeout");
  EXPECT_EQ(Classify(o).reason, "exceeded timeout of 30 s");
  o.killed_for = KillReason::kHung;
  EXPECT_EQ(Classify(o).outcome, "hung");
  o.killed_for = KillReason::kInterrupted;
  EXPECT_EQ(Classify(o).outcome, "interrupted");
}

TEST(Classify, FailureEventBeatsStderr) {
  AttemptObservation o = Exited(1, "CUDA error: boom\n");
  o.failure_event = nlohmann::json{{"event", "failure"}, {"outcome", "blocked"}, {"message", "no kernel"}};
  auto r = Classify(o);
  EXPECT_EQ(r.outcome, "blocked");
  EXPECT_EQ(r.reason, "no kernel");
}

TEST(Classify, StderrTellsOomAndCudaErrors) {
  auto oom = Classify(Exited(1, "step 3\nRuntimeError: CUDA out of memory. Tried to allocate 20 MiB\nmore\n"));
  EXPECT_EQ(oom.outcome, "oom");
  EXPECT_EQ(oom.reason, "RuntimeError: CUDA out of memory. Tried to allocate 20 MiB");
  AttemptObservation sig = Exited(0, "CUBLAS_STATUS_EXECUTION_FAILED when calling cublasGemmEx\n");
  sig.exit = {true, SIGABRT};
  EXPECT_EQ(Classify(sig).outcome, "cuda_error");
}

TEST(Classify, SignalsAreCrashesNamedBySignal) {
  AttemptObservation o = Exited(0, "");
  o.exit = {true, SIGSEGV};
  auto r = Classify(o);
  EXPECT_EQ(r.outcome, "crash");
  EXPECT_EQ(r.reason, "SIGSEGV");
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_FALSE(r.exit_code.has_value());
}

TEST(Classify, NonZeroExitIsErrorWithLastStderrLine) {
  auto r = Classify(Exited(3, "loading\nfatal: no such file\n\n"));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_EQ(r.reason, "exit code 3: fatal: no such file");
  EXPECT_EQ(r.exit_code, 3);
}

TEST(Classify, ExitZeroWithoutResultIsAnError) {
  auto r = Classify(Exited(0));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_NE(r.reason.find("without writing result.json"), std::string::npos);
  AttemptObservation bad = Exited(0);
  bad.result_text = R"({"outcome":"splendid"})";
  EXPECT_NE(Classify(bad).reason.find("unknown outcome 'splendid'"), std::string::npos);
}

TEST(Classify, EventWarningsAreKeptWithResultWarnings) {
  AttemptObservation o = Exited(0);
  o.result_text = R"({"outcome":"ok","warnings":["a"]})";
  o.event_warnings = {"a", "b"};
  EXPECT_EQ(Classify(o).warnings_json, R"(["a","b"])");
}

// result.json as a worker written by someone else may write it: every case ends in an
// explained outcome, none throws (before the fix, "repeat": "0" threw type_error.302 out
// of orch and aborted it).
AttemptObservation WithResult(const std::string& text) {
  AttemptObservation o = Exited(0);
  o.result_text = text;
  return o;
}

TEST(ClassifyHostileResult, WrongTypeNamesTheField) {
  auto r = Classify(WithResult(R"({"outcome":"ok","samples":[{"repeat":"0","latency_ms":[1]}]})"));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_EQ(r.reason, "invalid result.json: samples[0].repeat is a string, not an integer >= 0");
  r = Classify(WithResult(R"({"outcome":"ok","metrics":{"ppl":"12"}})"));
  EXPECT_EQ(r.reason, "invalid result.json: metrics.ppl is a string, not a number");
  r = Classify(WithResult(R"({"outcome":"ok","metrics":[1]})"));
  EXPECT_EQ(r.reason, "invalid result.json: metrics is a list, not an object");
  r = Classify(WithResult(R"({"outcome":"ok","samples":[{"latency_ms":[1,"x"]}]})"));
  EXPECT_EQ(r.reason, "invalid result.json: samples[0].latency_ms[1] is a string, not a number");
  r = Classify(WithResult(R"({"outcome":"ok","samples":[{"warmup":-1}]})"));
  EXPECT_EQ(r.reason, "invalid result.json: samples[0].warmup is a number, not an integer >= 0");
  r = Classify(WithResult(R"({"outcome":"ok","samples":{"repeat":0}})"));
  EXPECT_EQ(r.reason, "invalid result.json: samples is an object, not a list");
  r = Classify(WithResult(R"({"outcome":"ok","reason":7})"));
  EXPECT_EQ(r.reason, "invalid result.json: reason is a number, not a string");
  r = Classify(WithResult(R"({"outcome":"ok","details":"x"})"));
  EXPECT_EQ(r.reason, "invalid result.json: details is a string, not an object");
  r = Classify(WithResult(R"({"outcome":"ok","warnings":["a",3]})"));
  EXPECT_EQ(r.reason, "invalid result.json: warnings[1] is a number, not a string");
  r = Classify(WithResult(R"({"outcome":true})"));
  EXPECT_EQ(r.reason, "invalid result.json: outcome is true/false, not a string");
  r = Classify(WithResult(R"([1,2])"));
  EXPECT_EQ(r.reason, "invalid result.json: the top level is a list, not an object");
}

TEST(ClassifyHostileResult, MissingOrUnknownOutcome) {
  auto r = Classify(WithResult(R"({"metrics":{}})"));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_EQ(r.reason, "invalid result.json: outcome is missing");
  r = Classify(WithResult(R"({"outcome":"splendid"})"));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_EQ(r.reason,
            "invalid result.json: unknown outcome 'splendid' (a worker reports ok, nan, oom, "
            "cuda_error, blocked or error)");
  // The orchestrator's own classes are not the worker's to claim: an `interrupted` result
  // would have its trial rerun forever.
  for (const char* oc : {"interrupted", "timeout", "hung", "crash"}) {
    r = Classify(WithResult(std::string(R"({"outcome":")") + oc + "\"}"));
    EXPECT_EQ(r.outcome, "error") << oc;
  }
}

TEST(ClassifyHostileResult, PythonNonFiniteLiteralsAreData) {
  auto r = Classify(WithResult(
      R"({"outcome":"ok","metrics":{"ppl":NaN,"hi":Infinity,"lo":-Infinity,"ok":1.5},
          "reason":"NaN inside a string stays","details":{"d":NaN},
          "samples":[{"repeat":0,"latency_ms":[1,NaN],"nll":[Infinity,2]}]})"));
  ASSERT_EQ(r.outcome, "ok") << r.reason;
  EXPECT_TRUE(std::isnan(r.metrics["ppl"]));
  EXPECT_EQ(r.metrics["hi"], HUGE_VAL);
  EXPECT_EQ(r.metrics["lo"], -HUGE_VAL);
  EXPECT_EQ(r.metrics["ok"], 1.5);
  EXPECT_EQ(r.reason, "NaN inside a string stays");
  EXPECT_EQ(r.details_json, R"({"d":null})");
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_TRUE(std::isnan(r.samples[1].latency_ms));
  EXPECT_EQ(r.samples[0].nll, HUGE_VAL);
}

TEST(ClassifyHostileResult, TruncatedInvalidUtf8AndOversized) {
  auto r = Classify(WithResult(R"({"outcome":"ok","metrics":{"ppl":1)"));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_EQ(r.reason.rfind("invalid result.json: not valid JSON (truncated?): parse error", 0), 0u)
      << r.reason;
  r = Classify(WithResult("{\"outcome\":\"ok\",\"reason\":\"caf\xe9\"}"));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_NE(r.reason.find("not valid JSON"), std::string::npos) << r.reason;
  EXPECT_EQ(nlohmann::json(r.reason).dump().empty(), false);  // dump() does not throw
  r = Classify(WithResult(std::string(kMaxResultBytes + 1, ' ')));
  EXPECT_EQ(r.outcome, "error");
  EXPECT_EQ(r.reason, "invalid result.json: result.json is larger than 64 MiB");
}

TEST(ClassifyHostileResult, ResultFileReadIsCapped) {
  std::string path = ::testing::TempDir() + "/classify_huge_result.json";
  {
    std::ofstream out(path, std::ios::binary);
    std::string chunk(1 << 20, ' ');
    for (int i = 0; i < 65; ++i) out << chunk;
  }
  auto text = ReadResultFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->size(), kMaxResultBytes + 1);
  EXPECT_FALSE(ReadResultFile(path).has_value());
  // A FIFO (or a link to a device) is not read: that would block orch or never end.
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_FALSE(ReadResultFile(path).has_value());
  std::remove(path.c_str());
  EXPECT_FALSE(ReadResultFile("/dev/zero").has_value());
}

TEST(ClassifyHostileResult, FailureEventWithWrongTypes) {
  AttemptObservation o = Exited(1);
  o.failure_event = nlohmann::json{{"event", "failure"}, {"outcome", "oom"}, {"message", 42}};
  auto r = Classify(o);  // threw type_error.302 before
  EXPECT_EQ(r.outcome, "oom");
  EXPECT_EQ(r.reason, "");
  o.failure_event = nlohmann::json{{"event", "failure"}, {"outcome", "interrupted"}};
  EXPECT_EQ(Classify(o).outcome, "error");
  o.failure_event = nlohmann::json::array();
  EXPECT_EQ(Classify(o).outcome, "error");
}

TEST(ClassifyHostileResult, StoredTextsAreValidUtf8AndBounded) {
  AttemptObservation o = Exited(3, "ok line\nfatal: caf\xe9 \xff\xfe\n");
  auto r = Classify(o);
  EXPECT_EQ(r.outcome, "error");
  EXPECT_EQ(r.reason, "exit code 3: fatal: caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(r.stderr_tail, "ok line\nfatal: caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\n");
  nlohmann::json stored = {{"reason", r.reason}, {"tail", r.stderr_tail}};
  EXPECT_NO_THROW(stored.dump());
  o = Exited(1);
  o.failure_event = nlohmann::json{{"outcome", "blocked"}, {"message", std::string(100000, 'x')}};
  r = Classify(o);
  EXPECT_EQ(r.outcome, "blocked");
  EXPECT_LE(r.reason.size(), kMaxReasonBytes + 10);
}

TEST(ClassifyHostileResult, WarningsDeduplicatedInOrder) {
  AttemptObservation o = WithResult(R"({"outcome":"ok","warnings":["b","a","b"]})");
  for (int i = 0; i < 20000; ++i) o.event_warnings.push_back("w" + std::to_string(i % 3));
  o.event_warnings.push_back("a");
  auto r = Classify(o);
  EXPECT_EQ(r.warnings_json, R"(["b","a","w0","w1","w2"])");
}

}  // namespace
}  // namespace orch
