// The run loop's policies as pure functions: retries and start failures.
#include <gtest/gtest.h>

#include "orchestrator/attempt/retry_policy.h"
#include "orchestrator/local/start_policy.h"

namespace orch {
namespace {

store::AttemptResult Result(const std::string& outcome) {
  store::AttemptResult r;
  r.outcome = outcome;
  return r;
}

TEST(RetryPolicy, TransientOutcomesRetryWhileTriesAreLeft) {
  EXPECT_EQ(MaxAttempts("{}"), 2);
  EXPECT_EQ(MaxAttempts("{\"retries\": 3}"), 4);
  EXPECT_EQ(MaxAttempts("{\"retries\": -2}"), 1);
  EXPECT_EQ(MaxAttempts("not json"), 2);
  EXPECT_FALSE(IsTerminal(Result("crash"), KillReason::kNone, 1, "{}"));
  EXPECT_TRUE(IsTerminal(Result("crash"), KillReason::kNone, 2, "{}"));
  EXPECT_TRUE(IsTerminal(Result("crash"), KillReason::kNone, 1, "{\"retries\": 0}"));
  EXPECT_TRUE(IsTerminal(Result("nan"), KillReason::kNone, 1, "{}"));
  EXPECT_TRUE(IsTerminal(Result("ok"), KillReason::kNone, 1, "{}"));
  EXPECT_TRUE(IsTerminal(Result("not-an-outcome"), KillReason::kNone, 1, "{}"));
}

TEST(RetryPolicy, AUserInterruptIsNeverTerminal) {
  EXPECT_FALSE(IsTerminal(Result("interrupted"), KillReason::kInterrupted, 99, "{\"retries\": 0}"));
}

TEST(StartPolicy, TheMachinesFaultsLeaveTheTrialPending) {
  EXPECT_EQ(JudgeStartFailure(Status::Resource("ENOSPC")), StartFailure::kMachineFault);
  EXPECT_EQ(JudgeStartFailure(Status::IOError("EIO")), StartFailure::kMachineFault);
  EXPECT_EQ(JudgeStartFailure(Status::Error("ENOENT: no such worker")), StartFailure::kWorkerFault);
  EXPECT_EQ(JudgeStartFailure(Status::InvalidInput("not executable")), StartFailure::kWorkerFault);
}

}  // namespace
}  // namespace orch
