// Classification of attempts from what was observed (docs/protocol.md).
#include "orchestrator/classify.h"

#include <gtest/gtest.h>
#include <signal.h>

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

}  // namespace
}  // namespace orch
