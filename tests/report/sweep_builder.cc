#include "sweep_builder.h"

#include <cmath>
#include <map>
#include <random>

#include "base/sha256.h"

namespace orch::report::testing {
namespace {

using nlohmann::json;

double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

json Config(const json& extra) {
  json j = {{"quant", "none"},
            {"scope", "all"},
            {"window", "full"},
            {"n_sink", 4},
            {"dtype", "fp16"},
            {"compile", "eager"},
            {"mode", "eval"},
            {"tokens", 64},
            {"warmup", 0},
            {"repeats", 3},
            {"seed", 0},
            {"device", "cuda"},
            {"timeout", 600},
            {"heartbeat_timeout", 60},
            {"retries", 1},
            {"model", "pythia-70m"},
            {"dataset", "wikitext-2"}};
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j;
}

Status BuildSweep(store::Store& db, const std::string& name, const std::vector<CellSpec>& cells,
                  const std::string& device_name, uint64_t sample_seed) {
  store::SweepDef def;
  def.name = name;
  def.spec_path = "/fixture/" + name + ".yaml";
  def.spec_text = "name: " + name + "\n";
  def.spec_hash = Sha256Hex(def.spec_text);
  std::vector<std::string> order;  // unique keys, spec order
  std::map<std::string, const CellSpec*> by_key;
  for (const CellSpec& c : cells) {
    store::StudyDef* study = nullptr;
    for (store::StudyDef& s : def.studies) {
      if (s.id == c.study) study = &s;
    }
    if (study == nullptr) {
      def.studies.push_back({c.study, "Study " + c.study, "", "{}", {}});
      study = &def.studies.back();
    }
    const std::string config = c.config.dump();
    store::CellDef cell{Sha256Hex(config), config, ""};
    study->cells.push_back(cell);
    if (by_key.emplace(cell.key, &c).second) order.push_back(cell.key);
  }
  StatusOr<int64_t> sweep = db.UpsertSweep(def);
  if (!sweep.ok()) return sweep.status();
  const store::Owner owner{"fixture-host", 4242, 1, ""};
  const json provenance = {{"orch_commit", "0123456789abcdef0123456789abcdef01234567"},
                           {"orch_dirty", false},
                           {"build_type", "Release"},
                           {"compiler", "GNU 12.2.0"},
                           {"cpu_model", "AMD EPYC 7R13"},
                           {"gpus", {{{"name", device_name}}}}};
  StatusOr<int64_t> run = db.BeginRun(*sweep, owner, provenance.dump());
  if (!run.ok()) return run.status();
  const json env = {{"libtorch", "2.11.0"}, {"cuda_runtime", "12.8"}, {"device_name", device_name}};
  std::map<std::string, size_t> next;
  uint64_t seed = sample_seed;
  for (;;) {
    // The store claims the first pending trial in spec order: predict it for its slot.
    const AttemptSpec* spec = nullptr;
    std::string expected;
    for (const std::string& k : order) {
      if (next[k] < by_key[k]->attempts.size()) {
        expected = k;
        spec = &by_key[k]->attempts[next[k]];
        break;
      }
    }
    StatusOr<std::optional<store::Claim>> claim = db.ClaimNext(
        *sweep, *run, owner, spec ? spec->slot : "gpu:0",
        [](const std::string& key, int n) { return "/fixture/" + key + "/" + std::to_string(n); });
    if (!claim.ok()) return claim.status();
    if (!*claim) break;
    if ((*claim)->trial_key != expected)
      return Status::Error("sweep builder: the store claimed another trial than expected");
    const AttemptSpec& r = *spec;
    ++next[expected];
    store::AttemptResult a;
    a.attempt_id = (*claim)->attempt_id;
    a.outcome = r.outcome;
    a.reason = r.reason;
    a.exit_code = r.exit_code;
    a.signal = r.signal;
    a.stderr_tail = r.stderr_tail;
    a.duration_s = r.duration_s;
    a.details_json = r.details;
    a.environment_json = env.dump();
    a.terminal = r.terminal;
    if (r.outcome == "ok") {
      a.metrics = {{"ppl", r.ppl}, {"tpot_ms_median", r.tpot_ms}, {"peak_alloc_bytes", 1e9}};
      std::mt19937_64 rng(seed++);
      for (int rep = 0; rep < r.replicates; ++rep) {
        for (int i = 0; i < r.tokens; ++i) {
          store::Sample s;
          s.repeat = rep;
          s.index = i;
          s.latency_ms = r.tpot_ms * (1 + r.noise * (2 * Uniform(rng) - 1));
          s.nll = std::log(r.ppl);
          a.samples.push_back(s);
        }
      }
    }
    if (Status s = db.FinishAttempt(a); !s.ok()) return s;
  }
  return db.EndRun(*run, 0);
}

}  // namespace orch::report::testing
