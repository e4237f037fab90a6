// What the store tests share: a trial key for cell i and this process as an owner.
// Test-only.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

#include "store/records.h"

namespace orch::store::testing {

// A 64-hex-digit trial key, distinct for each i >= 0.
inline std::string Key(int i) {
  char key[65];
  std::snprintf(key, sizeof(key), "%064x", i + 1);
  return key;
}

inline Owner Me() {
  Owner me;
  me.host = "host";
  me.pid = getpid();
  me.pid_start = 1;
  return me;
}

}  // namespace orch::store::testing
