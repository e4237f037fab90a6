#include "worker/app/trial_io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "worker/modes/decode_loop.h"

namespace orch::worker {
namespace {

namespace fs = std::filesystem;

std::string TrialText(const std::string& window = "8", const std::string& extra = "") {
  return R"({"protocol":1,"trial_key":"k","attempt":2,"attempt_dir":"/tmp","events_path":"/dev/null",
"result_path":"/tmp/r.json","unknown_field":1,
"config":{"quant":"int8wo","scope":"all","window":)" +
         window +
         R"(,"n_sink":4,"dtype":"bf16","compile":"eager","mode":"eval","tokens":64,"warmup":2,
"repeats":3,"seed":1,"device":"cuda:0","timeout":10,"heartbeat_timeout":5,"retries":1)" +
         extra + R"(},
"inputs":{"model":"/m","token_ids":"/t.ids","tokenizer":"/x"}})";
}

fs::path TempDir() {
  fs::path d = fs::temp_directory_path() / ("orch_worker_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

TEST(ParseTrial, ReadsConfigAndInputs) {
  std::string error;
  auto t = ParseTrial(TrialText(), &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->config.quant, "int8wo");
  EXPECT_EQ(*t->config.window, 8);
  EXPECT_EQ(t->config.repeats, 3);
  EXPECT_EQ(t->config.device, "cuda:0");
  EXPECT_EQ(t->model, "/m");
  EXPECT_EQ(t->token_ids, "/t.ids");
  EXPECT_EQ(t->attempt, 2);
}

TEST(ParseTrial, QuantizeHeadIsFalseUnlessSaid) {
  std::string error;
  auto t = ParseTrial(TrialText(), &error);
  ASSERT_TRUE(t) << error;
  EXPECT_FALSE(t->config.quantize_head);  // absent: trial.json of an orch before the key
  for (const char* v : {R"("true")", "true"}) {
    t = ParseTrial(TrialText("8", std::string(R"(,"quantize_head":)") + v), &error);
    ASSERT_TRUE(t) << error;
    EXPECT_TRUE(t->config.quantize_head) << v;
  }
  t = ParseTrial(TrialText("8", R"(,"quantize_head":"false")"), &error);
  ASSERT_TRUE(t) << error;
  EXPECT_FALSE(t->config.quantize_head);
  EXPECT_FALSE(ParseTrial(TrialText("8", R"(,"quantize_head":1)"), &error));
  EXPECT_NE(error.find("config.quantize_head"), std::string::npos) << error;
}

TEST(ParseTrial, FullWindowIsNullopt) {
  std::string error;
  auto t = ParseTrial(TrialText("\"full\""), &error);
  ASSERT_TRUE(t) << error;
  EXPECT_FALSE(t->config.window.has_value());
}

TEST(ParseTrial, ErrorsNameTheKey) {
  std::string error;
  EXPECT_FALSE(ParseTrial(TrialText("\"wide\""), &error));
  EXPECT_NE(error.find("config.window"), std::string::npos) << error;
  std::string text = TrialText();
  text.replace(text.find("\"tokens\":64"), 11, "\"tokens\":\"x\"");
  EXPECT_FALSE(ParseTrial(text, &error));
  EXPECT_NE(error.find("config.tokens"), std::string::npos) << error;
  text = TrialText();
  text.replace(text.find("\"protocol\":1"), 12, "\"protocol\":2");
  EXPECT_FALSE(ParseTrial(text, &error));
  EXPECT_NE(error.find("protocol 2"), std::string::npos) << error;
}

TEST(WriteResultAtomically, WritesCompleteJsonAndNoTemporaries) {
  fs::path dir = TempDir() / "atomic";
  fs::create_directories(dir);
  TrialResult r;
  r.metrics["ppl"] = 12.5;
  r.metrics["bad"] = std::nan("");
  r.samples.push_back({0, 1, {1.0, 2.0}, {0.5, 0.25}});
  r.details["nan_layer"] = "gpt_neox.layers.2";
  std::string error;
  ASSERT_TRUE(WriteResultAtomically((dir / "result.json").string(), r, &error)) << error;
  std::ifstream in(dir / "result.json");
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["protocol"], 1);
  EXPECT_EQ(j["outcome"], "ok");
  EXPECT_EQ(j["metrics"]["ppl"], 12.5);
  EXPECT_TRUE(j["metrics"]["bad"].is_null());
  EXPECT_EQ(j["samples"][0]["latency_ms"].size(), 2u);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_FALSE(WriteResultAtomically((dir / "missing" / "result.json").string(), r, &error));
  fs::remove_all(dir);
}

TEST(DecodeMetrics, WarmupExcludedFromLatencyNotFromPerplexity) {
  RepeatSamples s{0, 2, {100, 100, 1, 2, 3, 4, 5}, {1, 1, 1, 1, 1, 1, 3}};
  auto m = DecodeMetrics({s});
  EXPECT_DOUBLE_EQ(m["tpot_ms_median"], 3);
  EXPECT_DOUBLE_EQ(m["tpot_ms_mean"], 3);
  EXPECT_DOUBLE_EQ(m["tokens_evaluated"], 7);
  EXPECT_NEAR(m["nll_mean"], 9.0 / 7.0, 1e-12);
  EXPECT_NEAR(m["ppl"], std::exp(9.0 / 7.0), 1e-9);
  EXPECT_NEAR(m["tpot_ms_p10"], 1.4, 1e-12);
  EXPECT_NEAR(Percentile({1, 2, 3, 4}, 0.99), 3.97, 1e-12);
}

}  // namespace
}  // namespace orch::worker
