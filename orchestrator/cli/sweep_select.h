// Opening the database read-only and choosing a sweep (`--sweep NAME`, or the only one),
// shared by the commands that read results. Prints its own errors.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "store/store.h"

namespace orch::cli {

std::unique_ptr<store::Store> OpenForReading(const std::string& db);
// nullopt (after printing why) when no sweep matches or the choice is ambiguous.
std::optional<store::SweepRecord> SelectSweep(const store::Store& db, const std::string& name);

}  // namespace orch::cli
