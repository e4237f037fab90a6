// End-to-end: the orch-worker binary on the committed fixture, through trial.json,
// events and result.json (docs/protocol.md).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/worker/fixture_util.h"
#include "worker/backend/device.h"

namespace orch::worker {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct WorkerRun {
  int exit_code = -1;
  json result;  // null when absent
  std::vector<json> events;
};

class WorkerE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orch_worker_e2e_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  json Config() const {
    return {{"quant", "none"}, {"scope", "all"},
            {"window", 8},     {"n_sink", 4},
            {"dtype", "fp32"}, {"compile", "eager"},
            {"mode", "eval"},  {"tokens", 40},
            {"warmup", 2},     {"repeats", 1},
            {"seed", 0},       {"device", "cpu"},
            {"timeout", 60},   {"heartbeat_timeout", 10},
            {"retries", 0}};
  }

  WorkerRun RunWorker(const json& config,
                      const std::string& model = testing::FixtureDir("tiny-parallel")) {
    json trial = {
        {"protocol", 1},
        {"trial_key", "k"},
        {"attempt", 1},
        {"attempt_dir", dir_.string()},
        {"events_path", (dir_ / "events.jsonl").string()},
        {"result_path", (dir_ / "result.json").string()},
        {"config", config},
        {"inputs",
         {{"model", model}, {"token_ids", testing::FixtureDir("tiny-parallel") + "/tokens.ids"}}}};
    std::ofstream(dir_ / "trial.json") << trial.dump();
    fs::remove(dir_ / "result.json");
    fs::remove(dir_ / "events.jsonl");
    std::string cmd = "ORCH_WORKER_THREADS=1 " + std::string(ORCH_WORKER_BIN) + " --trial " +
                      (dir_ / "trial.json").string() + " >" + (dir_ / "worker.log").string() +
                      " 2>&1";
    int status = std::system(cmd.c_str());
    WorkerRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (fs::exists(dir_ / "result.json"))
      r.result = json::parse(std::ifstream(dir_ / "result.json"));
    std::ifstream ev(dir_ / "events.jsonl");
    for (std::string line; std::getline(ev, line);) r.events.push_back(json::parse(line));
    return r;
  }

  fs::path dir_;
};

TEST_F(WorkerE2E, EvalWritesResultMatchingStreamingReference) {
  WorkerRun r = RunWorker(Config());
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_FALSE(r.result.is_null());
  EXPECT_EQ(r.result["outcome"], "ok") << r.result["reason"];
  testing::Reference ref("tiny-parallel");
  const double want = ref.Get("nll_stream").mean().item<double>();
  EXPECT_NEAR(r.result["metrics"]["nll_mean"].get<double>(), want, 1e-4);
  EXPECT_NEAR(r.result["metrics"]["ppl"].get<double>(), std::exp(want), std::exp(want) * 1e-4);
  EXPECT_EQ(r.result["metrics"]["tokens_evaluated"], 39);
  for (const char* m :
       {"tpot_ms_median", "tpot_ms_mean", "tpot_ms_p10", "tpot_ms_p90", "tpot_ms_p99",
        "decode_total_s", "load_s", "prepare_s", "quantize_s", "peak_rss_bytes", "weight_bytes"})
    EXPECT_TRUE(r.result["metrics"].contains(m)) << m;
  ASSERT_EQ(r.result["samples"].size(), 1u);
  EXPECT_EQ(r.result["samples"][0]["latency_ms"].size(), 39u);
  EXPECT_EQ(r.result["samples"][0]["nll"].size(), 39u);
  EXPECT_EQ(r.result["samples"][0]["warmup"], 2);
  EXPECT_EQ(r.result["environment"]["libtorch"], "2.11.0");
  ASSERT_FALSE(r.events.empty());
  EXPECT_EQ(r.events.front()["event"], "started");
  bool decode_phase = false;
  for (const auto& e : r.events) decode_phase |= e["event"] == "phase" && e["name"] == "decode";
  EXPECT_TRUE(decode_phase);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(WorkerE2E, FullWindowBeyondMaxPositionsWarns) {
  json c = Config();
  c["window"] = "full";  // fixture max_position_embeddings is 32 < 40 tokens
  WorkerRun r = RunWorker(c);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.result["outcome"], "ok");
  ASSERT_EQ(r.result["warnings"].size(), 1u);
  EXPECT_NE(r.result["warnings"][0].get<std::string>().find("max_position_embeddings=32"),
            std::string::npos);
  testing::Reference ref("tiny-parallel");
  EXPECT_NEAR(r.result["metrics"]["nll_mean"].get<double>(),
              ref.Get("nll_full").mean().item<double>(), 1e-4);
}

TEST_F(WorkerE2E, UnsupportedCombinationsAreBlockedWithReason) {
  json c = Config();
  c["compile"] = "cuda_graph";
  WorkerRun r = RunWorker(c);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.result["outcome"], "blocked");
  EXPECT_NE(r.result["reason"].get<std::string>().find("device is cpu"), std::string::npos);
  c = Config();
  c["quant"] = "int4wo-g128";  // in_features 64 is not a multiple of 128
  r = RunWorker(c);
  EXPECT_EQ(r.result["outcome"], "blocked");
  EXPECT_NE(r.result["reason"].get<std::string>().find("group size 128"), std::string::npos)
      << r.result["reason"];
  if (DeviceUnavailableReason(at::Device(at::kCUDA, 0)).empty()) return;  // a GPU session
  c = Config();
  c["device"] = "cuda";  // no GPU here (or a CPU-only build)
  r = RunWorker(c);
  EXPECT_EQ(r.result["outcome"], "blocked");
  EXPECT_NE(r.result["reason"].get<std::string>().find("cuda"), std::string::npos);
  bool failure_event = false;
  for (const auto& e : r.events)
    failure_event |= e["event"] == "failure" && e["outcome"] == "blocked";
  EXPECT_TRUE(failure_event);
}

TEST_F(WorkerE2E, QuantizedVariantsRunAndUnscaledControlIsBroken) {
  // The fixture's random weights make PPL itself meaningless, so compare per-token NLLs
  // with the unquantized StreamingLLM reference: a faithful variant stays close, the
  // unscaled control does not.
  testing::Reference ref("tiny-parallel");
  at::Tensor base = ref.Get("nll_stream").to(at::kDouble);
  auto mean_abs_diff = [&](const json& result) {
    std::vector<double> nll = result["samples"][0]["nll"].get<std::vector<double>>();
    return (at::tensor(nll, at::kDouble) - base).abs().mean().item<double>();
  };
  for (auto [q, tol] : {std::pair{"int8wo", 0.05}, std::pair{"int8wo-dequant", 0.05},
                        std::pair{"int8da", 0.1}, std::pair{"int4wo-g32", 0.5}}) {
    json c = Config();
    c["quant"] = q;
    WorkerRun r = RunWorker(c);
    ASSERT_EQ(r.result["outcome"], "ok") << q << ": " << r.result["reason"];
    EXPECT_LT(mean_abs_diff(r.result), tol) << q;
    EXPECT_LT(r.result["metrics"]["weight_bytes"].get<double>(), 862464.0)
        << q;  // fp32 model: 862464 bytes
  }
  json c = Config();
  c["quant"] = "int8wo-unscaled";
  WorkerRun r = RunWorker(c);
  ASSERT_EQ(r.exit_code, 0);
  if (r.result["outcome"] != "nan") {
    ASSERT_EQ(r.result["outcome"], "ok") << r.result["reason"];
    EXPECT_GT(mean_abs_diff(r.result), 0.5);  // measured 0.82; faithful variants stay < 0.05
  }
}

TEST_F(WorkerE2E, QuantizeHeadQuantizesTheOutputLayerToo) {
  testing::Reference ref("tiny-parallel");
  at::Tensor base = ref.Get("nll_stream").to(at::kDouble);
  json c = Config();
  c["quant"] = "int8wo";
  WorkerRun body = RunWorker(c);
  c["quantize_head"] = "true";
  WorkerRun head = RunWorker(c);
  ASSERT_EQ(body.result["outcome"], "ok") << body.result["reason"];
  ASSERT_EQ(head.result["outcome"], "ok") << head.result["reason"];
  // The head leaves fp32 for int8 + an fp32 scale per row: fewer resident bytes, NLL still
  // within int8's tolerance of the fp32 reference.
  EXPECT_LT(head.result["metrics"]["weight_bytes"].get<double>(),
            body.result["metrics"]["weight_bytes"].get<double>());
  std::vector<double> nll = head.result["samples"][0]["nll"].get<std::vector<double>>();
  EXPECT_LT((at::tensor(nll, at::kDouble) - base).abs().mean().item<double>(), 0.05);
}

TEST_F(WorkerE2E, SanityAndProfileModes) {
  json c = Config();
  c["mode"] = "sanity";
  c["tokens"] = 32;
  WorkerRun r = RunWorker(c);
  ASSERT_EQ(r.result["outcome"], "ok") << r.result["reason"];
  EXPECT_EQ(r.result["metrics"]["sanity_logits_finite"], 1);
  EXPECT_FALSE(r.result["details"].contains("nan_layer"));
  c = Config();
  c["mode"] = "profile";
  r = RunWorker(c);
  ASSERT_EQ(r.result["outcome"], "ok") << r.result["reason"];
  double sum = 0;
  for (const char* s : {"embedding", "attention", "mlp", "norm_residual", "head", "other"}) {
    double v = r.result["metrics"][std::string("profile_share_") + s].get<double>();
    EXPECT_GE(v, 0.0) << s;
    sum += v;
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_GT(r.result["metrics"]["profile_share_attention"].get<double>(), 0.0);
  EXPECT_GT(r.result["metrics"]["profile_step_ms"].get<double>(), 0.0);
}

TEST_F(WorkerE2E, NonFiniteWeightsGiveNanWithLayerAndToken) {
  // A copy of the fixture whose layer 1 MLP output weight holds a NaN.
  fs::path model = dir_ / "poisoned";
  fs::create_directories(model);
  fs::copy_file(testing::FixtureDir("tiny-parallel") + "/config.json", model / "config.json");
  SafetensorsFile src(testing::FixtureDir("tiny-parallel") + "/model.safetensors");
  json header = json::object();
  std::string data;
  for (const auto& [name, e] : src.entries()) {
    at::Tensor t = src.View(name).clone();
    if (name == "gpt_neox.layers.1.mlp.dense_4h_to_h.weight") t[0][0] = NAN;
    header[name] = {{"dtype", "F16"},
                    {"shape", e.shape},
                    {"data_offsets", {data.size(), data.size() + t.nbytes()}}};
    data.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
  }
  std::string h = header.dump();
  uint64_t len = h.size();
  std::ofstream out(model / "model.safetensors", std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
  out << h << data;
  out.close();

  json c = Config();
  c["mode"] = "sanity";
  c["tokens"] = 16;
  WorkerRun r = RunWorker(c, model.string());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.result["outcome"], "nan");
  EXPECT_EQ(r.result["details"]["nan_layer"], "gpt_neox.layers.1");
  EXPECT_EQ(r.result["details"]["nan_token"], 0);
  c = Config();
  r = RunWorker(c, model.string());
  EXPECT_EQ(r.result["outcome"], "nan");
  EXPECT_EQ(r.result["details"]["nan_token"], 0);
  EXPECT_EQ(r.result["samples"][0]["nll"].size(), 1u);
}

TEST_F(WorkerE2E, MissingModelIsAnErrorResultNamingTheDownload) {
  ::setenv("HF_HUB_CACHE", (dir_ / "empty-hub").c_str(), 1);
  WorkerRun r = RunWorker(Config(), "EleutherAI/pythia-70m");
  ::unsetenv("HF_HUB_CACHE");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.result["outcome"], "error");
  EXPECT_NE(r.result["reason"].get<std::string>().find("download EleutherAI/pythia-70m"),
            std::string::npos);
}

// A misspelt or unsupported ORCH_GEMV_ISA fails the trial with a reason naming the variable,
// the value and the valid levels, instead of running at some other level.
TEST_F(WorkerE2E, UnknownGemvIsaIsAnErrorResultNamingTheValidLevels) {
  ::setenv("ORCH_GEMV_ISA", "avx9", 1);
  WorkerRun r = RunWorker(Config());
  ::unsetenv("ORCH_GEMV_ISA");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.result["outcome"], "error");
  const std::string reason = r.result["reason"].get<std::string>();
  EXPECT_NE(reason.find("ORCH_GEMV_ISA=avx9"), std::string::npos) << reason;
  EXPECT_NE(reason.find("valid here: portable"), std::string::npos) << reason;
}

TEST_F(WorkerE2E, VersionAndUsage) {
  std::string out = (dir_ / "v.txt").string();
  ASSERT_EQ(std::system((std::string(ORCH_WORKER_BIN) + " --version >" + out).c_str()), 0);
  std::stringstream ss;
  ss << std::ifstream(out).rdbuf();
  EXPECT_EQ(ss.str().rfind("orch-worker ", 0), 0u);
  EXPECT_NE(ss.str().find("libtorch=2.11.0"), std::string::npos);
  EXPECT_NE(std::system((std::string(ORCH_WORKER_BIN) + " --bogus 2>/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace orch::worker
