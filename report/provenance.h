// provenance.json: the environment and build of every trial the report uses — the
// sweep's spec hash, each run's recorded provenance (orch commit, compiler, host, GPUs)
// and each trial's config, final attempt and worker environment. Keys sorted, only
// recorded times, so the same database gives the same bytes. Pure; any thread.
#pragma once

#include <string>

#include "report/model.h"
#include "report/snapshot.h"

namespace orch::report {

std::string RenderProvenanceJson(const SweepSnapshot& snapshot, const ReportModel& model);

}  // namespace orch::report
