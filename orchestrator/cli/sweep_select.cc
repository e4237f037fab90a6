#include "orchestrator/cli/sweep_select.h"

#include <cstdio>

namespace orch::cli {

std::unique_ptr<store::Store> OpenForReading(const std::string& db) {
  auto opened = store::Store::Open(db, store::OpenMode::kReadOnly);
  if (!opened.ok()) {
    std::fprintf(stderr, "orch: %s\n", opened.status().message().c_str());
    return nullptr;
  }
  return std::move(opened).value();
}

std::optional<store::SweepRecord> SelectSweep(const store::Store& db, const std::string& name) {
  auto listed = db.ListSweeps();
  if (!listed.ok()) {
    std::fprintf(stderr, "orch: %s: %s\n", db.path().c_str(), listed.status().message().c_str());
    return std::nullopt;
  }
  const std::vector<store::SweepRecord>& sweeps = *listed;
  if (!name.empty()) {
    for (const auto& s : sweeps) {
      if (s.name == name) return s;
    }
  } else if (sweeps.size() == 1) {
    return sweeps[0];
  }
  std::string names;
  for (const auto& s : sweeps) names += " " + s.name;
  std::fprintf(stderr, "orch: %s: %s (sweeps:%s)\n", db.path().c_str(),
               sweeps.empty() ? "holds no sweep"
               : name.empty() ? "holds several sweeps; choose one with --sweep"
                              : ("no sweep named '" + name + "'").c_str(),
               names.empty() ? " none" : names.c_str());
  return std::nullopt;
}

}  // namespace orch::cli
