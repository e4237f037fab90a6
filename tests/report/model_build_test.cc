// The model built in steps beside the loading (issue 18): ModelBuild (facts.h) with the
// replicates added as the latencies arrive gives the model BuildModel gives, and
// WriteReport (which loads and builds side by side) writes what RenderReport renders.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/atomic_file.h"
#include "fixture_db.h"
#include "report/facts.h"
#include "report/handoff.h"
#include "report/report.h"
#include "report/snapshot.h"
#include "store/store.h"

namespace orch::report {
namespace {

using nlohmann::json;

std::string Key(char c) { return std::string(64, c); }

// Trial a: three ok replicates (fresh processes); b: one ok attempt; c: a crash at the end
// (its metrics still reported). Each ok attempt has its PPL and 50 latencies.
SweepSnapshot ThreeTrials() {
  SweepSnapshot snap;
  snap.sweep.id = 1;
  snap.sweep.name = "s";
  snap.studies.push_back({1, "A", "title", "", "{}", 0, true});
  int64_t id = 0;
  int position = 0;
  auto trial = [&](char k, const std::vector<std::string>& outcomes, double ms) {
    store::TrialRecord t;
    t.key = Key(k);
    t.config_json = json{{"quant", std::string(1, k)}, {"tokens", 50}}.dump();
    t.state = store::TrialState::kDone;
    t.outcome = outcomes.back();
    t.study_id = "A";
    t.position = position++;
    std::vector<AttemptData>& list = snap.attempts[t.key];
    for (size_t n = 0; n < outcomes.size(); ++n) {
      AttemptData a;
      a.record.id = ++id;
      a.record.number = static_cast<int>(n + 1);
      a.record.run_id = 1;
      a.record.finished = true;
      a.record.outcome = outcomes[n];
      a.record.replicate = static_cast<int>(n + 1);
      a.metrics["ppl"] = 20.0;
      a.metrics["peak_rss_bytes"] = 1e9 + static_cast<double>(n);
      if (outcomes[n] == "ok") {
        std::vector<double> v;
        for (int i = 0; i < 50; ++i) v.push_back(ms * (1 + 0.01 * n) + 0.001 * ((i * 7) % 50));
        a.latencies.push_back(v);
      }
      list.push_back(a);
    }
    t.attempts = static_cast<int>(outcomes.size());
    t.final_attempt_id = id;
    snap.trials.push_back(t);
  };
  trial('a', {"ok", "ok", "ok"}, 10);
  trial('b', {"ok"}, 12);
  trial('c', {"ok", "crash"}, 14);
  return snap;
}

void ExpectSameCells(const ReportModel& got, const ReportModel& want) {
  ASSERT_EQ(got.studies.size(), want.studies.size());
  for (size_t s = 0; s < want.studies.size(); ++s) {
    ASSERT_EQ(got.studies[s].cells.size(), want.studies[s].cells.size());
    for (size_t i = 0; i < want.studies[s].cells.size(); ++i) {
      const Cell& g = got.studies[s].cells[i];
      const Cell& w = want.studies[s].cells[i];
      SCOPED_TRACE(w.key);
      EXPECT_EQ(g.outcome, w.outcome);
      EXPECT_EQ(g.ppl, w.ppl);
      EXPECT_EQ(g.metrics, w.metrics);
      EXPECT_EQ(g.peak_memory_bytes, w.peak_memory_bytes);
      EXPECT_EQ(g.replicate_processes, w.replicate_processes);
      EXPECT_EQ(g.warnings, w.warnings);
      ASSERT_EQ(g.tpot.has_value(), w.tpot.has_value());
      if (!w.tpot) continue;
      EXPECT_EQ(g.tpot->replicates, w.tpot->replicates);
      EXPECT_EQ(g.tpot->count, w.tpot->count);
      EXPECT_EQ(g.tpot->median, w.tpot->median);
      EXPECT_EQ(g.tpot->median_ci.lo, w.tpot->median_ci.lo);
      EXPECT_EQ(g.tpot->median_ci.hi, w.tpot->median_ci.hi);
    }
  }
}

// As the loader does it: the model's first steps see no metrics and no latencies; then
// every metric is written, then each ok attempt's latencies, handed over one at a time
// from another thread, the replicates of trial a split by the other trials'.
TEST(ModelBuild, ReplicatesAddedAsTheLatenciesArriveGiveBuildModelsCells) {
  const SweepSnapshot full = ThreeTrials();
  const StatusOr<ReportModel> want = BuildModel(full, {});
  ASSERT_TRUE(want.ok()) << want.status().message();
  ASSERT_EQ(want->studies[0].cells[0].tpot->replicates, 3u);

  SweepSnapshot loading = full;
  for (auto& [key, list] : loading.attempts) {
    for (AttemptData& a : list) {
      a.metrics.clear();
      a.latencies.clear();
    }
  }
  ModelBuild build(loading, {});
  ASSERT_TRUE(build.Start().ok());
  ASSERT_TRUE(build.AddAttempts().ok());
  Handoff<const AttemptData*> loaded;
  std::thread consumer([&] { build.AddReplicatesAsLoaded(loaded); });
  for (auto& [key, list] : loading.attempts) {
    for (size_t n = 0; n < list.size(); ++n) list[n].metrics = full.attempts.at(key)[n].metrics;
  }
  const std::pair<char, size_t> order[] = {{'a', 0}, {'b', 0}, {'a', 1}, {'c', 0}, {'a', 2}};
  for (auto [k, n] : order) {
    AttemptData& a = loading.attempts.at(Key(k))[n];
    a.latencies = full.attempts.at(Key(k))[n].latencies;
    loaded.Push(&a);
  }
  loaded.Close();
  consumer.join();
  StatusOr<ReportModel> got = build.Finish();
  ASSERT_TRUE(got.ok()) << got.status().message();
  ExpectSameCells(*got, *want);
  for (const auto& [key, list] : loading.attempts) {
    for (const AttemptData& a : list) EXPECT_TRUE(a.latencies.empty()) << key;  // freed
  }
}

TEST(ModelBuild, StepsOutOfOrderAreAnError) {
  SweepSnapshot snap = ThreeTrials();
  ModelBuild build(snap, {});
  EXPECT_FALSE(build.AddAttempts().ok());
  EXPECT_FALSE(build.Finish().ok());
  ModelBuild again(snap, {});
  ASSERT_TRUE(again.Start().ok());
  EXPECT_FALSE(again.Start().ok());
}

TEST(ModelBuild, AConfigThatIsNotAnObjectFailsEveryStepAfter) {
  SweepSnapshot snap = ThreeTrials();
  snap.trials[1].config_json = "[1]";
  ModelBuild build(snap, {});
  const Status s = build.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a JSON object"), std::string::npos) << s.message();
  EXPECT_EQ(build.AddAttempts().message(), s.message());
  EXPECT_EQ(build.Finish().status().message(), s.message());
}

// WriteReport loads and builds side by side; RenderReport of the loaded snapshot does
// one after the other: every file is the same.
TEST(ModelBuild, WriteReportWritesWhatRenderReportRenders) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("orch_model_build_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db_path = (dir / "orch.db").string();
  ASSERT_TRUE(testing::BuildFixtureDb(db_path).ok());
  StatusOr<std::unique_ptr<store::Store>> db =
      store::Store::Open(db_path, store::OpenMode::kReadOnly);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ReportOptions opts;
  opts.out_dir = (dir / "out").string();
  ASSERT_TRUE(WriteReport(**db, opts).ok());
  StatusOr<SweepSnapshot> snap = LoadSnapshot(**db, "");
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  StatusOr<ReportFiles> files = RenderReport(*snap, opts);
  ASSERT_TRUE(files.ok()) << files.status().message();
  size_t compared = 0;
  for (const auto& [path, text] : *files) {
    StatusOr<std::string> written = ReadFile((fs::path(opts.out_dir) / path).string());
    ASSERT_TRUE(written.ok()) << path;
    EXPECT_TRUE(*written == text) << path << " differs";
    ++compared;
  }
  EXPECT_GT(compared, 5u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace orch::report
