// Trial identity: canonical config + worker build id + input fingerprints.
#include <gtest/gtest.h>

#include <set>

#include "orchestrator/plan/sweep_plan.h"
#include "test_util.h"

namespace orch {
namespace {

using testing::TempDir;
using testing::WriteText;

SweepPlan Plan(const TempDir& dir, const std::string& yaml) {
  WriteText(dir / "spec.yaml", yaml);
  SweepPlan p = BuildPlan(LoadSpec(dir / "spec.yaml"), nullptr, false);
  EXPECT_TRUE(p.ok()) << (p.errors.empty() ? "" : p.errors[0].ToString());
  return p;
}

const char* kSpecA = R"(name: s
worker: )" FAKE_WORKER R"(
defaults: {tokens: 64, dtype: fp16}
studies:
  - id: A
    matrix: {quant: [none, int8wo], window: [64, full]}
)";

// Same experiment written differently: keys reordered, defaults moved, `full` spelled out.
const char* kSpecB = R"(studies:
  - matrix: {window: [64, full], quant: [none, int8wo]}
    dtype: fp16
    id: A
defaults: {window: full, tokens: 64}
worker: )" FAKE_WORKER R"(
name: s
)";

TEST(TrialKey, DoesNotDependOnYamlOrderOrSpelling) {
  TempDir d;
  auto a = Plan(d, kSpecA);
  auto b = Plan(d, kSpecB);
  ASSERT_EQ(a.trials.size(), 4u);
  ASSERT_EQ(b.trials.size(), 4u);
  std::set<std::string> ka, kb;
  for (const auto& t : a.trials) ka.insert(t.key);
  for (const auto& t : b.trials) kb.insert(t.key);
  EXPECT_EQ(ka, kb);
  EXPECT_EQ(ka.size(), 4u);
  EXPECT_EQ(a.trials[0].key.size(), 64u);
}

TEST(TrialKey, ChangesWithConfigButNotWithExecutionPolicy) {
  TempDir d;
  auto base = Plan(d, kSpecA);
  std::string more_tokens = kSpecA;
  more_tokens.replace(more_tokens.find("tokens: 64"), 10, "tokens: 65");
  auto changed = Plan(d, more_tokens);
  EXPECT_NE(base.trials[0].key, changed.trials[0].key);
  std::string timeout = kSpecA;
  timeout.replace(timeout.find("tokens: 64"), 10, "tokens: 64, timeout: 5, retries: 4");
  auto policy = Plan(d, timeout);
  EXPECT_EQ(base.trials[0].key, policy.trials[0].key);
}

TEST(TrialKey, ChangesWithInputFingerprintsAndWorker) {
  TempDir d;
  WriteText(d / "data.txt", "hello world");
  WriteText(d / "tok.json", "{}");
  std::string with_data = std::string(kSpecA) + "dataset: data.txt\ntokenizer: tok.json\n";
  auto a = Plan(d, with_data);
  WriteText(d / "data.txt", "hello world, edited");
  auto b = Plan(d, with_data);
  EXPECT_NE(a.trials[0].key, b.trials[0].key);
  EXPECT_NE(a.inputs.fingerprints["dataset"], b.inputs.fingerprints["dataset"]);

  // Another worker executable is another build: other keys.
  std::filesystem::copy_file(FAKE_WORKER, d / "worker2");
  std::ofstream(d / "worker2", std::ios::app) << "x";
  std::filesystem::permissions(d / "worker2", std::filesystem::perms::owner_all);
  std::string other = with_data;
  other.replace(other.find(FAKE_WORKER), std::string(FAKE_WORKER).size(), d / "worker2");
  auto c = Plan(d, other);
  EXPECT_NE(b.trials[0].key, c.trials[0].key);
}

TEST(TrialKey, MissingInputsAreSpecErrorsNamingTheKey) {
  TempDir d;
  WriteText(d / "spec.yaml", std::string(kSpecA) + "model: EleutherAI/pythia-nonexistent\n");
  setenv("HF_HOME", (d / "hf").c_str(), 1);
  SweepPlan p = BuildPlan(LoadSpec(d / "spec.yaml"), nullptr, false);
  ASSERT_EQ(p.errors.size(), 1u);
  std::string e = p.errors[0].ToString();
  EXPECT_NE(e.find("spec.yaml:7:8: model: model 'EleutherAI/pythia-nonexistent' not found"),
            std::string::npos) << e;
  EXPECT_NE(e.find("hf download EleutherAI/pythia-nonexistent"), std::string::npos) << e;
}

TEST(TrialKey, HubIdResolvesToTheCachedSnapshot) {
  TempDir d;
  std::string snap = d / "hf/hub/models--Org--tiny/snapshots/abc123";
  std::filesystem::create_directories(snap);
  std::filesystem::create_directories(d / "hf/hub/models--Org--tiny/refs");
  WriteText(d / "hf/hub/models--Org--tiny/refs/main", "abc123\n");
  WriteText(snap + "/config.json", "{}");
  setenv("HF_HOME", (d / "hf").c_str(), 1);
  auto dir = ResolveModelDir("Org/tiny", d.path());
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_EQ(*dir, snap);
}

}  // namespace
}  // namespace orch
