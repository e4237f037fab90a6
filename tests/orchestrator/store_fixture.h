// What the store tests share: a trial key for cell i, this process as an owner, and a
// sweep definition with no studies yet.
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

// A sweep named `name` whose spec text and path are placeholders; the caller adds studies.
inline SweepDef BareSweep(const std::string& name = "s", const std::string& spec_hash = "h") {
  SweepDef d;
  d.name = name;
  d.spec_path = "/x/spec.yaml";
  d.spec_text = "name: s";
  d.spec_hash = spec_hash;
  return d;
}

}  // namespace orch::store::testing
