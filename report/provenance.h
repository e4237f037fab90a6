// provenance.json: the environment and build of every trial the report uses — the
// sweep's spec hash, each run's recorded provenance (orch commit, compiler, host, GPUs)
// and each trial's config, final attempt and worker environment. Keys sorted, only
// recorded times, so the same database gives the same bytes. Pure; any thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "report/model.h"
#include "report/snapshot.h"

namespace orch::report {

std::string RenderProvenanceJson(const SweepSnapshot& snapshot, const ReportModel& model);

// The same text handed to `emit` in pieces (whole trials, ~64 KB at a time), so that a
// writer never holds it whole (76 MB at 100,000 trials, issue 18).
void EmitProvenanceJson(const SweepSnapshot& snapshot, const ReportModel& model,
                        const std::function<void(std::string_view)>& emit);

}  // namespace orch::report
