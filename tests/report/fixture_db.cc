#include "fixture_db.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "base/sha256.h"
#include "store/store.h"

namespace orch::report::testing {

const char kHostile[] = "_ % & # $ { } ~ ^ \\ | `tick` <b>bold</b> *star* [link](x) ... \xCE\xBB";

namespace {

using nlohmann::json;

struct Spec {
  std::string quant = "none";
  json window = "full";
  std::string dtype = "fp16";
  std::string compile = "eager";
  std::string mode = "eval";
  std::string scope = "all";
};

std::string ConfigJson(const Spec& s) {
  json j = {{"quant", s.quant},
            {"scope", s.scope},
            {"window", s.window},
            {"n_sink", 4},
            {"dtype", s.dtype},
            {"compile", s.compile},
            {"mode", s.mode},
            {"tokens", 64},
            {"warmup", 4},
            {"repeats", 2},
            {"seed", 0},
            {"device", "cuda"},
            {"timeout", 600},
            {"heartbeat_timeout", 60},
            {"retries", 1},
            {"model", "pythia-70m"},
            {"dataset", "wikitext-2"}};
  return j.dump();
}

// What one attempt of a cell produced.
struct Result {
  std::string outcome = "ok";
  std::string reason;
  std::string stderr_tail;
  std::optional<int> exit_code = 0;
  std::optional<int> signal;
  double ppl = 0;
  double tpot_ms = 0;  // centre of the latency samples
  std::map<std::string, double> extra;
  std::string details = "{}";
  std::string warnings = "[]";
  bool terminal = true;
};

struct FixtureCell {
  std::string study;
  Spec spec;
  std::vector<Result> attempts;  // the last one is final
};

// Uniform double in [0, 1) from the top 53 bits: specified, unlike std distributions.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::vector<store::Sample> MakeSamples(double centre, double nll, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<store::Sample> out;
  for (int repeat = 0; repeat < 2; ++repeat) {
    for (int i = 0; i < 4 + 64; ++i) {
      store::Sample s;
      s.repeat = repeat;
      s.index = i;
      s.warmup = i < 4;
      // Irwin-Hall(3) noise of +/-3%, warm-up tokens 3x slower (they must be excluded).
      const double noise = Uniform(rng) + Uniform(rng) + Uniform(rng) - 1.5;
      s.latency_ms = centre * (1 + 0.02 * noise) * (s.warmup ? 3 : 1);
      s.nll = nll + 0.1 * (Uniform(rng) - 0.5);
      out.push_back(s);
    }
  }
  return out;
}

Result Ok(double ppl, double tpot) {
  Result r;
  r.ppl = ppl;
  r.tpot_ms = tpot;
  return r;
}

Result Fail(std::string outcome, std::string reason, std::string stderr_tail,
            std::optional<int> exit_code, std::optional<int> signal = std::nullopt) {
  Result r;
  r.outcome = std::move(outcome);
  r.reason = std::move(reason);
  r.stderr_tail = std::move(stderr_tail);
  r.exit_code = exit_code;
  r.signal = signal;
  return r;
}

std::vector<FixtureCell> Cells() {
  const std::string hostile = kHostile;
  std::vector<FixtureCell> c;
  // Study A: quantization variants at full window; the baseline is named in the spec.
  c.push_back({"A", {}, {Ok(20.00, 10.0)}});
  c.push_back({"A", {"int8wo"}, {Ok(20.06, 12.5)}});          // slower, PPL stable
  c.push_back({"A", {"int8wo-dequant"}, {Ok(20.04, 10.0)}});  // no measurable difference
  {
    Result r = Fail("nan", "non-finite logits at token 17", "", 0);
    r.details = R"({"nan_token":17,"nan_layer":"gpt_neox.layers.2"})";
    c.push_back({"A", {"int8wo-unscaled"}, {r}});
  }
  c.push_back({"A",
               {"int8da"},
               {Fail("blocked", "int8da needs a kernel this build lacks: " + hostile, "", 0)}});
  c.push_back(
      {"A",
       {"int4wo-g32"},
       {Fail("oom", "CUDA out of memory",
             "Loading weights\n\x1b[31mterminate called after throwing an instance of "
             "'c10::OutOfMemoryError'\x1b[0m\n"
             "  what():  CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB total)\n"
             "frame #0: c10::Error::Error() + 0x1\n",
             134)}});
  c.push_back({"A",
               {"int4wo-g64"},
               {Fail("crash", "killed by signal 11 (SIGSEGV)",
                     "Traceback (most recent call last):\n  File \"x.py\", line 3\n\n"
                     "Segmentation fault in kernel " +
                         hostile + "\n",
                     std::nullopt, 11)}});
  {
    Result first = Fail("hung", "no heartbeat for 60 s", "decode: token 12/64\n", std::nullopt, 9);
    first.terminal = false;
    c.push_back({"A", {"int4wo-g128"}, {first, Ok(20.50, 8.0)}});  // retried, then faster
  }
  c.push_back(
      {"A",
       {"int4wo-g256"},
       {Fail("timeout", "exceeded the 600 s timeout",
             "decode: token 3/64\nwarning: slow kernel path selected\n", std::nullopt, 9)}});
  // Study B: KV window at fp16, default baseline (quant none, window full).
  c.push_back({"B", {}, {Ok(20.00, 10.0)}});  // the same cell as A's baseline
  {
    Result r = Ok(20.10, 9.95);
    r.warnings =
        R"j(["baseline window full (2048) exceeds the model's trained context (2048 - 4 sink)"])j";
    Spec s;
    s.window = 256;
    c.push_back({"B", s, {r}});
  }
  {
    Spec s;
    s.window = 64;
    c.push_back({"B", s, {Ok(25.30, 9.70)}});  // PPL beyond tolerance
  }
  {
    Spec s;
    s.window = 32;
    c.push_back({"B", s, {Fail("hung", "no heartbeat for 60 s", "", std::nullopt, 9)}});
  }
  {
    Spec s;
    s.window = 16;
    c.push_back({"B",
                 s,
                 {Fail("cuda_error", "CUDA error",
                       "CUDA error: an illegal memory access was encountered\n", 1)}});
  }
  {
    Spec s;
    s.dtype = "bf16";
    c.push_back({"B",
                 s,
                 {Fail("error", "worker exited with status 2",
                       "orch-worker: error: cannot open " + hostile + "\n", 2)}});
  }
  // Study P: one profile trial.
  {
    Spec s;
    s.mode = "profile";
    Result r = Ok(20.00, 10.4);
    r.extra = {{"profile_share_embedding", 0.02}, {"profile_share_attention", 0.31},
               {"profile_share_mlp", 0.44},       {"profile_share_norm_residual", 0.08},
               {"profile_share_head", 0.05},      {"profile_share_other", 0.10},
               {"profile_step_ms", 10.4}};
    c.push_back({"P", s, {r}});
  }
  return c;
}

}  // namespace

Status BuildFixtureDb(const std::string& path) {
  StatusOr<std::unique_ptr<store::Store>> opened = store::Store::Open(path);
  if (!opened.ok()) return opened.status();
  store::Store& db = **opened;
  const std::string hostile = kHostile;

  std::vector<FixtureCell> cells = Cells();
  store::SweepDef def;
  def.name = "quant-sweep";
  def.spec_path = "/fixture/experiments/quant_sweep.yaml";
  def.spec_text = "name: quant-sweep\n";
  def.spec_hash = Sha256Hex(def.spec_text);
  def.context =
      "Does weight-only int8 speed up decoding of a small GPT-NeoX?\n\n"
      "Second paragraph with hostile text: " +
      hostile;
  def.conclusion = "Weight-only int8 did not pay off at batch size 1.";
  def.studies = {
      {"A",
       "Quantization variants " + hostile,
       "Notes for A.\n\n# not a heading " + hostile,
       R"({"quant":"none","window":"full"})",
       {}},
      {"B", "KV window", "", "{}", {}},
      {"P", "Profile", "", "{}", {}},
  };
  for (const FixtureCell& c : cells) {
    const std::string config = ConfigJson(c.spec);
    for (store::StudyDef& s : def.studies) {
      if (s.id == c.study) {
        store::CellDef cell;
        cell.key = Sha256Hex(config);
        cell.config_json = config;
        cell.label = "quant=" + c.spec.quant;
        s.cells.push_back(cell);
      }
    }
  }
  StatusOr<int64_t> sweep = db.UpsertSweep(def);
  if (!sweep.ok()) return sweep.status();

  const store::Owner owner{"fixture-host", 4242, 1};
  const json provenance = {
      {"orch_commit", "0123456789abcdef0123456789abcdef01234567"},
      {"orch_dirty", false},
      {"build_type", "Release"},
      {"compiler", "GNU 12.2.0"},
      {"host", "fixture-host"},
      {"os", "Linux 6.1"},
      {"cpu_model", "AMD EPYC 7R13"},
      {"gpus", {{{"name", "NVIDIA H100 80GB HBM3"}, {"uuid", "GPU-0000"}, {"driver", "550.54"}}}},
      {"started_utc", "2026-01-02T03:04:05Z"}};
  StatusOr<int64_t> run = db.BeginRun(*sweep, owner, provenance.dump());
  if (!run.ok()) return run.status();
  const json env = {{"libtorch", "2.11.0"},
                    {"cuda_runtime", "12.8"},
                    {"device_name", "NVIDIA H100 80GB HBM3"},
                    {"threads", 8}};

  // Cells are claimed in spec order; a cell in two studies is run once.
  std::map<std::string, const FixtureCell*> by_key;
  for (const FixtureCell& c : cells) by_key.emplace(Sha256Hex(ConfigJson(c.spec)), &c);
  std::map<std::string, size_t> next_attempt;
  uint64_t seed = 1;
  for (;;) {
    StatusOr<std::optional<store::Claim>> claim =
        db.ClaimNext(*sweep, *run, owner, "gpu:0", [](const std::string& key, int n) {
          return "/fixture/results/" + key + "/attempt-" + std::to_string(n);
        });
    if (!claim.ok()) return claim.status();
    if (!*claim) break;
    const FixtureCell& cell = *by_key.at((*claim)->trial_key);
    const Result& r = cell.attempts[next_attempt[(*claim)->trial_key]++];
    store::AttemptResult a;
    a.attempt_id = (*claim)->attempt_id;
    a.outcome = r.outcome;
    a.reason = r.reason;
    a.exit_code = r.exit_code;
    a.signal = r.signal;
    a.stderr_tail = r.stderr_tail;
    a.duration_s = 12.5;
    a.details_json = r.details;
    a.warnings_json = r.warnings;
    a.environment_json = env.dump();
    a.terminal = r.terminal;
    if (r.outcome == "ok") {
      a.metrics = {{"ppl", r.ppl},
                   {"nll_mean", std::log(r.ppl)},
                   {"tokens_evaluated", 128},
                   {"tpot_ms_median", r.tpot_ms},
                   {"load_s", 1.25},
                   {"peak_alloc_bytes", 1.5 * 1024 * 1024 * 1024 / (r.tpot_ms / 10.0)},
                   {"weight_bytes", 140e6}};
      for (const auto& [k, v] : r.extra) a.metrics[k] = v;
      a.samples = MakeSamples(r.tpot_ms, std::log(r.ppl), seed++);
    }
    if (Status s = db.FinishAttempt(a); !s.ok()) return s;
  }
  return db.EndRun(*run, 0);
}

}  // namespace orch::report::testing
