#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/cli/commands.h"
#include "orchestrator/plan/sweep_plan.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch::cli {
namespace {

struct PlanOptions {
  std::string spec, db;
  bool json = false;
};

// The plan's warnings, then its errors: false when it has errors.
bool PrintProblems(const SweepPlan& plan, const std::string& spec) {
  for (const auto& es : plan.studies) {
    for (const auto& w : es.warnings) std::fprintf(stderr, "warning: %s\n", w.ToString().c_str());
  }
  if (plan.ok()) return true;
  for (const auto& e : plan.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  std::fprintf(stderr, "%zu error(s) in %s\n", plan.errors.size(), ForTerminal(spec).c_str());
  return false;
}

int PrintJson(const SweepPlan& plan, bool provisional, const std::string& spec) {
  if (!PrintProblems(plan, spec)) return kExitUsage;
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
  if (o.json) return PrintJson(BuildPlan(std::move(parsed), std::move(inputs)), provisional, o.spec);
  SweepPlan plan;
  plan.spec = std::move(parsed.spec);
  plan.errors = std::move(parsed.errors);
  plan.inputs = std::move(inputs);
  // Each trial's line is kept, not its documents: 100,000 trials print in well under a
  // second (issue 18).
  std::vector<std::vector<std::string>> lines;  // per study in plan.studies
  size_t cells = 0;
  std::unordered_map<std::string, int64_t> processes;  // distinct key -> its replicates
  if (plan.errors.empty() || !plan.inputs.worker.empty()) {
    (void)ExpandPlan(&plan, [&](size_t study, PlannedTrial&& t) {
      if (lines.size() <= study) lines.resize(study + 1);
      lines[study].push_back("  " + t.key.substr(0, 12) + "  " +
                             ForTerminal(DescribeCombination(t.combination)) + "\n");
      ++cells;
      // Each trial runs `repeats` replicates, each a fresh worker process (docs/report.md).
      auto r = t.config.find("repeats");
      processes.insert_or_assign(std::move(t.key), r != t.config.end() && r->is_number_integer()
                                              ? std::max<int64_t>(1, *r) : 1);
      return Status::Ok();
    });
  }
  if (!PrintProblems(plan, o.spec)) return kExitUsage;
  int64_t total_processes = 0;
  for (const auto& [key, n] : processes) total_processes += n;
  std::printf("sweep %s: %zu cells, %zu distinct trials (%lld worker processes with their "
              "replicates) in %zu studies\n",
              ForTerminal(plan.spec.name).c_str(), cells, processes.size(),
              static_cast<long long>(total_processes), plan.studies.size());
  lines.resize(plan.studies.size());
  for (size_t i = 0; i < plan.studies.size(); ++i) {
    const StudySpec& study = *plan.studies[i].study;
    std::printf("\nstudy %s: %s (%zu cells)\n", ForTerminal(study.id).c_str(),
                ForTerminal(study.title).c_str(), lines[i].size());
    for (const std::string& line : lines[i]) std::fputs(line.c_str(), stdout);
    for (const auto& [id, combo] : plan.excluded) {
      if (id == study.id) {
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
