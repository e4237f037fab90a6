#include "worker/app/trial_runner.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace orch::worker {
namespace {

template <typename E>
TrialResult ResultOf(E e) {
  try {
    throw e;
  } catch (...) {
    return ResultFromException(std::current_exception());
  }
}

TEST(ResultFromException, OutOfMemoryIsOom) {
  c10::OutOfMemoryError e({__func__, __FILE__, __LINE__},
                          "CUDA out of memory. Tried to allocate 2 GiB\nmore");
  TrialResult r = ResultOf(e);
  EXPECT_EQ(r.outcome, OutcomeClass::kOom);
  EXPECT_NE(r.reason.find("Tried to allocate"), std::string::npos);
  EXPECT_EQ(r.reason.find('\n'), std::string::npos);
}

TEST(ResultFromException, CudaErrorsAreCudaErrorOthersAreError) {
  TrialResult r =
      ResultOf(c10::Error({__func__, __FILE__, __LINE__}, "CUDA error: an illegal memory access"));
  EXPECT_EQ(r.outcome, OutcomeClass::kCudaError);
  EXPECT_NE(r.reason.find("illegal memory access"), std::string::npos);
  r = ResultOf(c10::Error({__func__, __FILE__, __LINE__}, "shape mismatch"));
  EXPECT_EQ(r.outcome, OutcomeClass::kError);
  r = ResultOf(std::runtime_error("checkpoint has no tensor x"));
  EXPECT_EQ(r.outcome, OutcomeClass::kError);
  EXPECT_EQ(r.reason, "checkpoint has no tensor x");
}

TEST(RunTrial, BadDeviceIsAnErrorWithFailureEvent) {
  Trial t;
  t.config.device = "tpu";
  t.config.tokens = 8;
  EventSink events("");
  TrialResult r = RunTrial(t, events);
  EXPECT_EQ(r.outcome, OutcomeClass::kError);
  EXPECT_NE(r.reason.find("tpu"), std::string::npos);
  EXPECT_EQ(r.environment["libtorch"], "2.11.0");
}

}  // namespace
}  // namespace orch::worker
