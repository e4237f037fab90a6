// Must: the value of a store read in a test, its error a test failure. Returns by value,
// so `for (auto& t : Must(db->Trials(sweep)))` is safe. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "base/status.h"

namespace orch {

template <typename T>
T Must(StatusOr<T> s) {
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return T();
  return std::move(s).value();
}

}  // namespace orch
