#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "orchestrator/cli/commands.h"
#include "orchestrator/plan/sweep_plan.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch::cli {
namespace {

struct PlanOptions {
  std::string spec, db;
  bool json = false;
};

int RunPlan(const PlanOptions& o) {
  // Read-only use of the fingerprint cache when a database exists: no side effects.
  std::unique_ptr<store::Store> cache;
  if (std::filesystem::exists(o.db)) {
    auto s = store::Store::Open(o.db, store::OpenMode::kReadOnly);
    if (s.ok()) cache = std::move(s).value();
  }
  SpecParse parsed = LoadSpec(o.spec);
  std::vector<SpecError> input_errors;
  ResolvedInputs inputs;
  bool provisional = false;
  if (parsed.ok()) {
    inputs = ResolveInputs(parsed.spec, cache.get(), /*write_cache=*/false, &input_errors);
    // A missing worker (a build without LibTorch) need not hide the plan: show it with
    // provisional keys, which the worker's build id will change.
    for (auto it = input_errors.begin(); it != input_errors.end();) {
      if (it->key == "worker") {
        std::fprintf(stderr, "warning: %s\nwarning: the keys below are provisional: they change "
                     "once the worker exists\n", it->ToString().c_str());
        provisional = true;
        it = input_errors.erase(it);
      } else {
        ++it;
      }
    }
    parsed.errors = std::move(input_errors);
  }
  SweepPlan plan = BuildPlan(std::move(parsed), std::move(inputs));
  for (const auto& es : plan.studies) {
    for (const auto& w : es.warnings) std::fprintf(stderr, "warning: %s\n", w.ToString().c_str());
  }
  if (!plan.ok()) {
    for (const auto& e : plan.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    std::fprintf(stderr, "%zu error(s) in %s\n", plan.errors.size(), ForTerminal(o.spec).c_str());
    return kExitUsage;
  }
  if (o.json) {
    nlohmann::json out = {{"name", plan.spec.name},
                          {"provisional_keys", provisional},
                          {"trials", nlohmann::json::array()},
                          {"excluded", nlohmann::json::array()}};
    for (const auto& t : plan.trials) {
      out["trials"].push_back({{"key", t.key}, {"study", t.study}, {"config", t.config}});
    }
    for (const auto& [study, combo] : plan.excluded) {
      out["excluded"].push_back({{"study", study}, {"config", combo}});
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  // Each trial runs `repeats` replicates, each a fresh worker process (docs/report.md).
  std::map<std::string, int64_t> processes;
  for (const auto& t : plan.trials) {
    auto r = t.config.find("repeats");
    processes[t.key] = r != t.config.end() && r->is_number_integer() ? std::max<int64_t>(1, *r) : 1;
  }
  int64_t total_processes = 0;
  for (const auto& [key, n] : processes) total_processes += n;
  std::printf("sweep %s: %zu cells, %d distinct trials (%lld worker processes with their "
              "replicates) in %zu studies\n",
              ForTerminal(plan.spec.name).c_str(), plan.trials.size(), plan.UniqueTrials(),
              static_cast<long long>(total_processes), plan.studies.size());
  for (const auto& es : plan.studies) {
    const auto cells = std::count_if(plan.trials.begin(), plan.trials.end(),
                                     [&](const PlannedTrial& t) { return t.study == es.study->id; });
    std::printf("\nstudy %s: %s (%zu cells)\n", ForTerminal(es.study->id).c_str(),
                ForTerminal(es.study->title).c_str(), static_cast<size_t>(cells));
    for (const auto& t : plan.trials) {
      if (t.study != es.study->id) continue;
      std::printf("  %s  %s\n", t.key.substr(0, 12).c_str(),
                  ForTerminal(DescribeCombination(t.combination)).c_str());
    }
    for (const auto& [study, combo] : plan.excluded) {
      if (study == es.study->id) {
        std::printf("  excluded      %s\n", ForTerminal(DescribeCombination(combo)).c_str());
      }
    }
  }
  return kExitOk;
}

}  // namespace

void SetupPlan(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand("plan", "Show the trials a spec expands to (no side effects)");
  cmd->add_option("spec", o->spec, "experiment spec (YAML)")->required();
  cmd->add_flag("--json", o->json, "print one JSON object");
  AddDbOption(cmd, &o->db);
  cmd->callback([o, exit_code] { *exit_code = RunPlan(*o); });
}

}  // namespace orch::cli
