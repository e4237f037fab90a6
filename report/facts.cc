#include "report/facts.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "report/cell_label.h"
#include "report/claims.h"
#include "report/error_line.h"
#include "report/flat_config.h"
#include "report/number_format.h"
#include "report/parallel_for.h"
#include "report/study_summary.h"

namespace orch::report {
namespace {

using nlohmann::json;

constexpr size_t kShortKey = 12;

const std::vector<std::pair<std::string, std::string>>& ProfileComponents() {
  static const std::vector<std::pair<std::string, std::string>> kParts = {
      {"profile_share_embedding", "embedding"},
      {"profile_share_attention", "attention"},
      {"profile_share_mlp", "MLP"},
      {"profile_share_norm_residual", "norms+residual"},
      {"profile_share_head", "head"},
      {"profile_share_other", "overhead"}};
  return kParts;
}

json ParseOr(const std::string& text, json fallback) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? fallback : j;
}

std::string JsonScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float()) return FormatMetric(v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return v.dump();
}

std::string StringField(const json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? "" : JsonScalarText(*it);
}

int64_t IntField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number()) return 0;
  return it->is_number_float() ? static_cast<int64_t>(it->get<double>()) : it->get<int64_t>();
}

// The fields CellConfig names, once `c.fields` holds the config: the strings are the fields'
// texts (JsonScalarText), the integers come from `int_field` (0 when absent or not a number).
template <typename IntField>
void NameFields(CellConfig& c, const IntField& int_field) {
  for (auto [field, name] :
       {std::pair{&c.quant, "quant"}, {&c.scope, "scope"}, {&c.window, "window"},
        {&c.dtype, "dtype"}, {&c.compile, "compile"}, {&c.mode, "mode"},
        {&c.device, "device"}, {&c.model, "model"}, {&c.dataset, "dataset"}}) {
    *field = std::string(c.fields.Value(name));
  }
  for (auto [field, name] : {std::pair{&c.n_sink, "n_sink"}, {&c.tokens, "tokens"},
                             {&c.warmup, "warmup"}, {&c.repeats, "repeats"}, {&c.seed, "seed"}}) {
    *field = int_field(name);
  }
  c.fields.ShrinkToFit();
}

// The same CellConfig as the full parse below, from a canonical flat config's members
// (flat_config.h): the store writes every config so, and the DOM parse, re-dump and
// copies of 100,000 of them were ~8% of `orch report` (issue 18).
CellConfig ConfigFromFlat(std::string_view text, const std::vector<FlatScalar>& members) {
  CellConfig c;
  c.json = std::string(text);  // it is its own dump
  for (const FlatScalar& f : members) c.fields.Set(f.key, f.text);
  NameFields(c, [&](std::string_view name) -> int64_t {
    for (const FlatScalar& f : members) {
      if (f.key == name) return f.integer ? f.value : 0;
    }
    return 0;
  });
  return c;
}

StatusOr<CellConfig> ParseConfig(const std::string& key, const std::string& text) {
  if (std::optional<std::vector<FlatScalar>> flat = ScanCanonicalFlatConfig(text))
    return ConfigFromFlat(text, *flat);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Error("trial " + key.substr(0, kShortKey) +
                         ": config_json is not a JSON object");
  }
  CellConfig c;
  c.json = j.dump();  // compact, keys sorted: the same bytes for the same config
  c.json.shrink_to_fit();  // a dump grows by doubling: up to 2x, kept for every cell
  for (auto it = j.begin(); it != j.end(); ++it) c.fields.Set(it.key(), JsonScalarText(it.value()));
  NameFields(c, [&](const char* name) { return IntField(j, name); });
  return c;
}

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string ShortKey(const std::string& key) { return key.substr(0, kShortKey); }

// Each run's provenance, parsed once (a sweep has a few runs and many cells).
using RunProvenance = std::map<int64_t, json>;
RunProvenance ParseRunProvenance(const SweepSnapshot& snap) {
  RunProvenance out;
  for (const auto& [id, run] : snap.runs) {
    json prov = ParseOr(run.provenance_json, json::object());
    out.emplace(id, prov.is_object() ? std::move(prov) : json::object());
  }
  return out;
}

// `env`: the attempt's environment_json, parsed.
Platform PlatformOf(const CellConfig& config, const store::AttemptRecord& attempt, const json& env,
                    const RunProvenance& runs) {
  Platform p;
  static const json kNone = json::object();
  auto run = runs.find(attempt.run_id);
  const json& prov = run != runs.end() ? run->second : kNone;
  const std::string device_name = env.is_object() ? StringField(env, "device_name") : "";
  const bool gpu = StartsWith(config.device, "cuda");
  if (!device_name.empty()) {
    p.hardware = device_name;
  } else if (gpu && prov.contains("gpus") && prov["gpus"].is_array() && !prov["gpus"].empty()) {
    size_t index = 0;
    if (auto colon = attempt.slot.find(':'); colon != std::string::npos) {
      index = static_cast<size_t>(std::atoi(attempt.slot.c_str() + colon + 1));
    }
    if (index >= prov["gpus"].size()) index = 0;
    p.hardware = StringField(prov["gpus"][index], "name");
  }
  if (!gpu || p.hardware.empty()) {
    const std::string cpu = StringField(prov, "cpu_model");
    // A CPU worker names the CPU as its device: say it once.
    if (!cpu.empty() && cpu != p.hardware) {
      p.hardware = p.hardware.empty() ? cpu : p.hardware + " / " + cpu;
    }
  }
  std::string build = StringField(prov, "orch_commit").substr(0, kShortKey);
  auto dirty = prov.find("orch_dirty");
  if (dirty != prov.end() && dirty->is_boolean() && dirty->get<bool>()) build += "-dirty";
  for (const char* f : {"build_type", "compiler"}) {
    const std::string v = StringField(prov, f);
    if (!v.empty()) build += (build.empty() ? "" : ", ") + v;
  }
  if (env.is_object()) {
    const std::string torch = StringField(env, "libtorch");
    const std::string cuda = StringField(env, "cuda_runtime");
    if (!torch.empty()) build += (build.empty() ? "" : ", ") + std::string("LibTorch ") + torch;
    if (!cuda.empty()) build += (build.empty() ? "" : ", ") + std::string("CUDA ") + cuda;
  }
  p.build = build;
  p.hardware.shrink_to_fit();  // grown by appending; one per cell
  p.build.shrink_to_fit();
  return p;
}

// A cell is built in three steps (ModelBuild, facts.h), each reading only what the snapshot
// holds by then. `drop`: the snapshot (as `snap`) whose texts and latencies of this trial
// are freed once read. Only one call at a time touches a trial (each is built once).

// Step 1 (trials loaded): the key and the parsed config.
Status StartCell(const store::TrialRecord& trial, const SweepSnapshot& snap, SweepSnapshot* drop,
                 Cell& cell) {
  cell.key = trial.key;
  cell.short_key = ShortKey(trial.key);
  StatusOr<CellConfig> config = ParseConfig(trial.key, trial.config_json);
  if (!config.ok()) return config.status();
  cell.config = std::move(*config);
  if (drop != nullptr) {
    // The cell holds the config now (canonical and parsed): the trial's text is never read
    // again, and freed here its memory is reused by the next cells (~30 MB at 100,000).
    std::string().swap(drop->trials[static_cast<size_t>(&trial - snap.trials.data())].config_json);
  }
  return Status::Ok();
}

// Step 2 (attempts and runs loaded; the attempts' latencies and metrics not read): what the
// trial and its attempts' records say. Returns the final attempt when step 3 has work.
const AttemptData* AddAttemptRecords(const store::TrialRecord& trial, const SweepSnapshot& snap,
                                     const RunProvenance& runs, Cell& cell) {
  cell.attempts = trial.attempts;
  switch (trial.state) {
    case store::TrialState::kPending:
      cell.outcome = "pending";
      break;
    case store::TrialState::kRunning:
      cell.outcome = "running";
      break;
    case store::TrialState::kDone:
      cell.outcome = trial.outcome;
      break;
  }
  cell.reason = trial.reason;

  const AttemptData* final_attempt = nullptr;
  if (auto it = snap.attempts.find(trial.key); it != snap.attempts.end()) {
    for (const AttemptData& a : it->second) {
      if (trial.final_attempt_id && a.record.id == *trial.final_attempt_id) {
        final_attempt = &a;
      } else if (a.record.finished && a.record.outcome != "ok") {
        std::string detail = FirstErrorLine(a.record.stderr_tail);
        if (detail.empty()) detail = a.record.reason;
        cell.earlier_attempts.push_back({a.record.number, a.record.outcome, detail});
      }
    }
  }
  if (trial.state != store::TrialState::kDone || final_attempt == nullptr) return nullptr;

  const store::AttemptRecord& rec = final_attempt->record;
  cell.run_id = rec.run_id;
  const json env = ParseOr(rec.environment_json, json::object());  // parsed once a cell
  cell.platform = PlatformOf(cell.config, rec, env, runs);
  cell.worker_environment_json = env.dump();
  cell.worker_environment_json.shrink_to_fit();
  if (cell.reason.empty()) cell.reason = rec.reason;
  cell.error_line = FirstErrorLine(rec.stderr_tail);

  const json details = ParseOr(rec.details_json, json::object());
  if (details.is_object()) {
    cell.nan_layer = StringField(details, "nan_layer");
    if (auto t = details.find("nan_token"); t != details.end() && t->is_number_integer()) {
      cell.nan_token = t->get<int64_t>();
    }
  }
  const json warnings = ParseOr(rec.warnings_json, json::array());
  if (warnings.is_array()) {
    for (const json& w : warnings) cell.warnings.push_back(JsonScalarText(w));
  }
  return final_attempt;
}

// Step 3 (everything loaded): the replicates' PPL and TPOT, the final metrics.
void AddReplicates(const AttemptData* final_attempt, const SweepSnapshot& snap,
                   const FactsOptions& opts, SweepSnapshot* drop, Cell& cell) {
  if (drop == nullptr) cell.metrics = final_attempt->metrics;  // else moved below
  if (cell.ok()) {
    // Every ok replicate (a fresh worker process each) is one unit of the replicate
    // interval (stats.h); PPL is the first replicate's (snapshot.h).
    TrialReplicates reps = OkReplicates(snap, cell.key);
    cell.ppl = reps.ppl;
    cell.replicate_processes = reps.processes;
    for (std::string& w : reps.warnings) cell.warnings.push_back(std::move(w));
    if (!reps.latencies.empty()) cell.tpot = SummarizeReplicates(reps.latencies, opts.intervals);
  }
  if (drop != nullptr) {
    if (auto it = drop->attempts.find(cell.key); it != drop->attempts.end()) {
      for (AttemptData& a : it->second) {
        std::vector<std::vector<double>>().swap(a.latencies);
        // The final metrics move into the cell (OkReplicates has read their PPL), and no
        // output reads an attempt's warnings but from the cell: no second copy is held.
        if (&a == final_attempt) cell.metrics = std::move(a.metrics);
        std::string().swap(a.record.warnings_json);
      }
    }
  }
  for (const char* m : {"peak_alloc_bytes", "peak_rss_bytes"}) {
    if (auto it = cell.metrics.find(m); it != cell.metrics.end() && std::isfinite(it->second)) {
      cell.peak_memory_bytes = it->second;
      cell.peak_memory_metric = m;
      break;
    }
  }
}

// Compares displayed values (JsonScalarText), which equal JSON values also have: numbers
// and their spellings ("256" vs 256) count as equal, since specs are hand-written. The
// cell's parsed fields, not its JSON: parsing 100,000 configs again cost 4% of a report.
bool ConfigMatches(const ConfigFields& cfg, const std::vector<ConfigFields::Field>& partial) {
  for (const auto& [key, value] : partial) {
    const std::optional<std::string_view> c = cfg.Find(key);
    if (!c || *c != value) return false;
  }
  return true;
}

void AddDistinct(std::vector<std::string>& list, const std::string& v) {
  if (!v.empty() && std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

}  // namespace

SpeedVerdict JudgeSpeed(const Interval& ci, double ratio, double min_effect, bool replicated) {
  if (!replicated) return SpeedVerdict::kWithinRunOnly;
  if (ci.lo > 1.0 && ratio > 1.0 + min_effect) return SpeedVerdict::kSlower;
  if (ci.hi < 1.0 && ratio < 1.0 - min_effect) return SpeedVerdict::kFaster;
  return SpeedVerdict::kNoDifference;
}

Comparison CompareMeasurements(const Cell& cell, const Cell& baseline, double confidence,
                               double min_effect, double ppl_tolerance) {
  Comparison c;
  if (cell.tpot && baseline.tpot && baseline.tpot->median > 0 && cell.tpot->replicates > 0 &&
      baseline.tpot->replicates > 0) {
    c.ratio = cell.tpot->median / baseline.tpot->median;
    const bool replicated = cell.tpot->replicates > 1 && baseline.tpot->replicates > 1;
    if (auto r = ReplicateRatio(cell.tpot->log_medians, baseline.tpot->log_medians, confidence)) {
      // Student t on the replicates' log medians (stats.h); with one replicate on one
      // side it borrows the other side's spread, and no claim is made from it.
      c.ratio_ci = r->ci;
      c.speed = JudgeSpeed(c.ratio_ci, *c.ratio, min_effect, replicated);
    } else if (cell.tpot->ratio_part && baseline.tpot->ratio_part &&
               cell.tpot->confidence == confidence && baseline.tpot->confidence == confidence) {
      // One replicate each: the two order-statistic intervals at sqrt(confidence),
      // divided (stats.h): within-run spread only, conservative.
      c.ratio_ci = OrderStatisticRatioCi(*cell.tpot->ratio_part, *baseline.tpot->ratio_part);
      c.speed = JudgeSpeed(c.ratio_ci, *c.ratio, min_effect, replicated);
    } else {
      c.ratio.reset();
      c.unavailable_why = "no per-token samples";
    }
  } else {
    c.unavailable_why = "no per-token samples";
  }
  if (cell.ppl && baseline.ppl && *baseline.ppl > 0) {
    c.ppl_change = *cell.ppl / *baseline.ppl - 1.0;
    c.ppl = std::fabs(*c.ppl_change) <= ppl_tolerance ? PplVerdict::kStable
            : *c.ppl_change > 0                       ? PplVerdict::kHigher
                                                      : PplVerdict::kLower;
  }
  return c;
}

std::optional<Sensitivity> StudySensitivity(const std::vector<Cell>& cells, double confidence,
                                            double min_effect) {
  Sensitivity s;
  double ss = 0;
  int measured = 0;
  for (const Cell& c : cells) {
    if (!c.ok() || !c.tpot || c.tpot->replicates == 0) continue;
    const int n = static_cast<int>(c.tpot->replicates);
    if (n < 2) return std::nullopt;
    ++measured;
    ss += c.tpot->log_medians.ss;
    s.spread_df += n - 1;
    s.replicates = s.replicates == 0 ? n : std::min(s.replicates, n);
  }
  if (measured < 2) return std::nullopt;
  s.spread = std::sqrt(ss / s.spread_df);
  s.detectable =
      DetectableChange(s.spread, s.replicates, s.replicates, confidence, min_effect, s.power);
  return s;
}

Comparison Compare(const Cell& cell, const Cell& baseline, const FactsOptions& opts) {
  Comparison c;
  if (!cell.ok() || !baseline.ok()) {
    c.unavailable_why =
        !cell.ok() ? "the cell has no measurements" : "the baseline ended " + baseline.outcome;
    return c;
  }
  if (cell.platform != baseline.platform) {
    const Platform a = cell.platform.value_or(Platform{}),
                   b = baseline.platform.value_or(Platform{});
    c.unavailable_why = a.hardware != b.hardware
                            ? "different hardware (" + a.hardware + " vs " + b.hardware + ")"
                            : "different build (" + a.build + " vs " + b.build + ")";
    return c;
  }
  return CompareMeasurements(cell, baseline, opts.intervals.confidence, opts.min_effect,
                             opts.ppl_tolerance);
}

std::optional<size_t> ChooseBaseline(const std::vector<Cell>& cells,
                                     const std::string& baseline_json, std::string* how) {
  const json partial = ParseOr(baseline_json.empty() ? "{}" : baseline_json, json());
  if (!partial.is_object()) {
    *how = "the spec's baseline is not a mapping";
    return std::nullopt;
  }
  std::vector<std::string> texts;  // the partial's values as displayed
  for (auto it = partial.begin(); it != partial.end(); ++it) {
    texts.push_back(JsonScalarText(it.value()));
  }
  std::vector<ConfigFields::Field> wanted;
  size_t n = 0;
  for (auto it = partial.begin(); it != partial.end(); ++it)
    wanted.push_back({it.key(), texts[n++]});
  std::vector<size_t> matches;
  for (size_t i = 0; i < cells.size(); ++i) {
    const ConfigFields& cfg = cells[i].config.fields;
    if (partial.empty() ? cfg.Value("quant") == "none" : ConfigMatches(cfg, wanted)) {
      matches.push_back(i);
    }
  }
  if (!partial.empty()) {
    if (matches.empty()) {
      *how = "no cell matches the spec's baseline";
      return std::nullopt;
    }
    *how = "named in the spec";
    return matches.front();
  }
  if (matches.empty()) {
    *how = "the spec names no baseline and no cell has quant none";
    return std::nullopt;
  }
  for (size_t i : matches) {
    if (cells[i].config.window == "full") {
      *how = "default: the cell with quant none and window full";
      return i;
    }
  }
  *how = "default: the first cell with quant none";
  return matches.front();
}

namespace {

// Counts the unfinished and the stale cells (not in the spec) into the model.
void CountCells(const SweepSnapshot& snap, ReportModel* model) {
  std::unordered_set<std::string_view> unfinished, stale, in_spec;  // views of the trials' keys
  for (const store::TrialRecord& t : snap.trials) {
    if (!t.in_spec) {
      stale.insert(t.key);
      continue;
    }
    if (t.state != store::TrialState::kDone) unfinished.insert(t.key);
    in_spec.insert(t.key);
  }
  model->unfinished = static_cast<int>(unfinished.size());
  for (std::string_view k : in_spec) stale.erase(k);  // stale in one study, kept in another
  model->stale = static_cast<int>(stale.size());
}

// A trial to build and the slot of its first cell.
struct CellBuild {
  const store::TrialRecord* trial;
  Cell* slot;
  const AttemptData* final_attempt = nullptr;  // step 2's: step 3 has work when set
};

// The in-spec studies with their cells' slots in spec order, each cell to be built in its
// place in its study (a Cell is ~1 KB: a map of 100,000 cells beside the studies, moved
// into them afterwards, held both at once, issue 18). A trial in several studies is built
// once (`builds`) and copied (`copies`, once the originals are built).
void LayOutStudies(const SweepSnapshot& snap, ReportModel* model, std::vector<CellBuild>* builds,
                   std::vector<std::pair<Cell*, const Cell*>>* copies) {
  std::unordered_map<std::string_view, Cell*> first_slot;  // hashed: 100,000 64-byte keys
  first_slot.reserve(snap.trials.size());
  size_t in_spec_studies = 0;
  for (const store::StudyRecord& sr : snap.studies) in_spec_studies += sr.in_spec;
  model->studies.reserve(in_spec_studies);
  for (const store::StudyRecord& sr : snap.studies) {
    if (!sr.in_spec) continue;
    Study& s = model->studies.emplace_back();
    s.id = sr.id;
    s.title = sr.title;
    s.notes = sr.notes;
    s.baseline_json = sr.baseline_json;
    std::vector<const store::TrialRecord*> members;
    for (const store::TrialRecord& t : snap.trials) {
      if (t.in_spec && t.study_id == sr.id) members.push_back(&t);
    }
    std::stable_sort(members.begin(), members.end(),
                     [](const auto* a, const auto* b) { return a->position < b->position; });
    s.cells.resize(members.size());  // never resized again: the slots stay put
    for (size_t i = 0; i < members.size(); ++i) {
      auto [it, fresh] = first_slot.emplace(members[i]->key, &s.cells[i]);
      if (fresh) {
        builds->push_back({members[i], &s.cells[i]});
      } else {
        copies->push_back({&s.cells[i], it->second});
      }
    }
  }
}

// One study, its cells in place: its baseline, comparisons, sensitivity and observations.
void CompleteStudy(Study& s, const FactsOptions& opts) {
  s.varying = VaryingFields(s.cells);
  s.baseline = ChooseBaseline(s.cells, s.baseline_json, &s.baseline_how);
  s.comparisons.resize(s.cells.size());
  if (s.baseline) {
    for (size_t i = 0; i < s.cells.size(); ++i) {
      if (i != *s.baseline) s.comparisons[i] = Compare(s.cells[i], s.cells[*s.baseline], opts);
    }
  }
  s.sensitivity = StudySensitivity(s.cells, opts.intervals.confidence, opts.min_effect);
  // A big study is summarised in every output (study_summary.h), which shows no cell's
  // observation: ~1 KB of prose a cell, 90 MB of a 100,000-trial report (issue 18).
  if (!IsBigStudy(s)) {
    s.observations.reserve(s.cells.size());
    for (size_t i = 0; i < s.cells.size(); ++i) {
      s.observations.push_back(CellObservation(s, i, opts.ppl_tolerance, opts.min_effect));
      s.observations.back().ShrinkToFit();
    }
  }
  s.baseline_line = BaselineLine(s);
}

// Context: recorded values in first-seen (spec) order; profile breakdowns.
void AddContext(ReportModel& model) {
  std::set<std::string> profiled;
  for (const Study& s : model.studies) {
    for (const Cell& c : s.cells) {
      // Only measured cells: a crashed worker reports no environment, and its
      // platform (from the run alone) would look like a second machine.
      if (c.platform && c.ok()) {
        AddDistinct(model.hardware, c.platform->hardware);
        AddDistinct(model.builds, c.platform->build);
      }
      AddDistinct(model.models, c.config.model);
      AddDistinct(model.datasets, c.config.dataset);
      AddDistinct(model.methods, c.config.quant);
      AddDistinct(model.dtypes, c.config.dtype);
      AddDistinct(model.windows, c.config.window);
      AddDistinct(model.tokens, std::to_string(c.config.tokens));
      AddDistinct(model.compile_modes, c.config.compile);
      if (c.config.mode == "profile" && c.ok() && profiled.insert(c.key).second) {
        ProfileRow row;
        row.label = CellLabel(c, s.varying);
        row.short_key = c.short_key;
        if (auto it = c.metrics.find("profile_step_ms"); it != c.metrics.end())
          row.step_ms = it->second;
        for (const auto& [metric, name] : ProfileComponents()) {
          if (auto it = c.metrics.find(metric); it != c.metrics.end())
            row.shares.push_back({name, it->second});
        }
        if (!row.shares.empty()) model.profile.push_back(std::move(row));
      }
    }
  }
  if (model.hardware.empty()) {  // nothing measured: still say where it ran
    for (const Study& s : model.studies) {
      for (const Cell& c : s.cells) {
        if (c.platform) {
          AddDistinct(model.hardware, c.platform->hardware);
          AddDistinct(model.builds, c.platform->build);
        }
      }
    }
  }
}

// `claims`: each study's StudyClaims, in study order (made beside the studies' other work).
void AddConclusions(ReportModel& model, std::vector<std::vector<Prose>> claims) {
  if (model.unfinished > 0) {
    model.conclusions.push_back(
        Prose().Text("The sweep is incomplete: " + std::to_string(model.unfinished) +
                     " cells are not done; what follows covers the cells that are."));
  }
  // With a big study, a claim that lists every cell keeps what the writers show of it.
  const bool big = HasBigStudy(model);
  auto add = [&](Prose p) {
    if (big && p.spans().size() > kKeptConclusionSpans) p = FirstSpans(p, kKeptConclusionSpans);
    model.conclusions.push_back(std::move(p));
  };
  for (std::vector<Prose>& study_claims : claims) {
    for (Prose& p : study_claims) add(std::move(p));
  }
  if (std::optional<Prose> failures = FailureClaim(model.studies)) add(std::move(*failures));
  if (model.hardware.size() > 1 || model.builds.size() > 1) {
    model.conclusions.push_back(
        Prose().Text("Measured cells were recorded on " + std::to_string(model.hardware.size()) +
                     " hardware and " + std::to_string(model.builds.size()) +
                     " build configurations; only cells on the same hardware and build as their "
                     "baseline are compared."));
  }
}

}  // namespace

struct ModelBuild::State {
  const SweepSnapshot& snap;
  SweepSnapshot* drop;
  FactsOptions opts;
  ReportModel model;
  std::vector<CellBuild> builds;
  std::vector<std::pair<Cell*, const Cell*>> copies;
  int steps_done = 0;
  Status failed = Status::Ok();
  std::vector<char> replicated;  // per build: AddReplicates done
};

ModelBuild::ModelBuild(const SweepSnapshot& snapshot, SweepSnapshot* drop,
                       const FactsOptions& opts)
    : state_(new State{snapshot, drop, opts, {}, {}, {}, 0, Status::Ok(), {}}) {}

ModelBuild::ModelBuild(SweepSnapshot& snapshot, const FactsOptions& opts)
    : ModelBuild(snapshot, &snapshot, opts) {}

ModelBuild::~ModelBuild() = default;

// Each step runs the cells on every core, each into its own slot: no output bit depends
// on the threads. The first error, in cell order, is kept and returned by every step after.
Status ModelBuild::Start() {
  State& st = *state_;
  if (st.steps_done != 0) return Status::Error("report model: steps out of order");
  st.steps_done = 1;
  ReportModel& model = st.model;
  model.sweep = st.snap.sweep;
  model.ppl_tolerance = st.opts.ppl_tolerance;
  model.min_effect = st.opts.min_effect;
  model.intervals = st.opts.intervals;
  CountCells(st.snap, &model);
  LayOutStudies(st.snap, &model, &st.builds, &st.copies);
  std::vector<Status> failed(st.builds.size(), Status::Ok());
  ParallelFor(st.builds.size(), [&](size_t i) {
    failed[i] = StartCell(*st.builds[i].trial, st.snap, st.drop, *st.builds[i].slot);
  });
  for (Status& f : failed) {
    if (!f.ok()) return st.failed = std::move(f);
  }
  return Status::Ok();
}

Status ModelBuild::AddAttempts() {
  State& st = *state_;
  if (!st.failed.ok()) return st.failed;
  if (st.steps_done != 1) return Status::Error("report model: steps out of order");
  st.steps_done = 2;
  const RunProvenance runs = ParseRunProvenance(st.snap);
  ParallelFor(st.builds.size(), [&](size_t i) {
    CellBuild& b = st.builds[i];
    b.final_attempt = AddAttemptRecords(*b.trial, st.snap, runs, *b.slot);
  });
  return Status::Ok();
}

void ModelBuild::AddReplicatesAsLoaded(Handoff<const AttemptData*>& loaded) {
  State& st = *state_;
  std::vector<const AttemptData*> batch;
  if (!st.failed.ok() || st.steps_done != 2) {
    while (loaded.Take(&batch)) {
    }
    return;
  }
  // Each cell waits for its ok attempts, the ones that get latencies (snapshot.h); one
  // without any is done by Finish, as are the cells with no ok attempt (whose metrics may
  // still be loading when this starts).
  std::unordered_map<const AttemptData*, size_t> build_of;
  std::vector<int> waiting(st.builds.size(), 0);
  for (size_t i = 0; i < st.builds.size(); ++i) {
    if (st.builds[i].final_attempt == nullptr || !st.builds[i].slot->ok()) continue;
    auto it = st.snap.attempts.find(st.builds[i].trial->key);
    if (it == st.snap.attempts.end()) continue;
    for (const AttemptData& a : it->second) {
      if (a.record.finished && a.record.outcome == "ok") {
        build_of.emplace(&a, i);
        ++waiting[i];
      }
    }
  }
  st.replicated.assign(st.builds.size(), 0);
  while (loaded.Take(&batch)) {
    for (const AttemptData* a : batch) {
      auto it = build_of.find(a);
      if (it == build_of.end() || --waiting[it->second] != 0) continue;
      const CellBuild& b = st.builds[it->second];
      AddReplicates(b.final_attempt, st.snap, st.opts, st.drop, *b.slot);
      st.replicated[it->second] = 1;
    }
  }
}

StatusOr<ReportModel> ModelBuild::Finish() {
  State& st = *state_;
  if (!st.failed.ok()) return st.failed;
  if (st.steps_done != 2) return Status::Error("report model: steps out of order");
  st.steps_done = 3;
  ReportModel& model = st.model;
  const FactsOptions& opts = st.opts;
  ParallelFor(st.builds.size(), [&](size_t i) {
    const CellBuild& b = st.builds[i];
    const bool done = !st.replicated.empty() && st.replicated[i];
    if (b.final_attempt != nullptr && !done) {
      AddReplicates(b.final_attempt, st.snap, opts, st.drop, *b.slot);
    }
  });
  for (const auto& [to, from] : st.copies) *to = *from;
  // Each study on its own (its cells, comparisons, claims and summary read nothing of
  // another), on every core: one thread took ~0.6 s of a 100,000-trial report (issue 18).
  std::vector<std::vector<Prose>> claims(model.studies.size());
  ParallelFor(model.studies.size(), [&](size_t i) {
    Study& s = model.studies[i];
    CompleteStudy(s, opts);
    claims[i] = StudyClaims(s, opts.ppl_tolerance, opts.min_effect);
    if (IsBigStudy(s)) s.summary = std::make_shared<const StudySummary>(SummarizeStudy(s));
  });
  AddContext(model);
  AddConclusions(model, std::move(claims));
  for (const auto& [id, run] : st.snap.runs) {
    model.runs.push_back({id, run.started_utc, run.finished_utc, run.exit_code,
                          ParseOr(run.provenance_json, json::object()).dump()});
  }
  return std::move(model);
}

namespace {

StatusOr<ReportModel> Build(ModelBuild build) {
  if (Status s = build.Start(); !s.ok()) return s;
  if (Status s = build.AddAttempts(); !s.ok()) return s;
  return build.Finish();
}

}  // namespace

StatusOr<ReportModel> BuildModel(const SweepSnapshot& snap, const FactsOptions& opts) {
  return Build(ModelBuild(snap, nullptr, opts));
}

StatusOr<ReportModel> BuildModelDroppingLatencies(SweepSnapshot& snap, const FactsOptions& opts) {
  return Build(ModelBuild(snap, opts));
}

}  // namespace orch::report
