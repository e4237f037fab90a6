#include "base/outcome.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace orch {
namespace {

// The names are the protocol's (docs/protocol.md): workers write them into result.json
// and failure events, the store keeps them. orch-worker and orch share this one list.
TEST(Outcome, NamesAreTheProtocolsAndRoundTrip) {
  const std::set<std::string> expected = {"ok",    "nan",     "oom",  "cuda_error",
                                          "blocked", "crash", "error", "timeout",
                                          "hung",  "interrupted"};
  std::set<std::string> names;
  for (OutcomeClass c : AllOutcomes()) {
    std::string name(OutcomeName(c));
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    auto back = ParseOutcome(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, c) << name;
  }
  EXPECT_EQ(names, expected);
}

TEST(Outcome, UnknownNamesAreRefused) {
  for (const char* name : {"", "OK", "Ok", "failure", "cuda error", "ok "}) {
    EXPECT_FALSE(ParseOutcome(name).has_value()) << "'" << name << "'";
  }
}

// A retry may cure a crash, a hang, an interruption or a CUDA error; never a result
// that says something about the configuration (nan, oom, blocked) or the worker (error,
// timeout).
TEST(Outcome, OnlyTransientClassesAreRetried) {
  std::set<std::string> transient;
  for (OutcomeClass c : AllOutcomes()) {
    if (IsTransient(c)) transient.insert(std::string(OutcomeName(c)));
  }
  EXPECT_EQ(transient, (std::set<std::string>{"crash", "hung", "interrupted", "cuda_error"}));
}

}  // namespace
}  // namespace orch
