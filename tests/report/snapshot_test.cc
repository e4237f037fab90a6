// LoadSnapshot's reads (issue 18): the latencies decoded straight from a sample blob are
// LatencyRepeats of its decoded samples, on any blob; and the snapshot of a sweep, read
// by id range and decoded on a second thread, holds exactly what the per-trial and
// per-attempt reads give, when two sweeps share a database and a trial and took turns.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "report/snapshot.h"
#include "report_test_util.h"
#include "store/sample_blob.h"
#include "store/store.h"

namespace orch::report {
namespace {

using store::Sample;

uint64_t Bits(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// The same lists of the same values, bit for bit.
void ExpectSameLatencies(const std::vector<std::vector<double>>& got,
                         const std::vector<std::vector<double>>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t r = 0; r < got.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size()) << what << " list " << r;
    for (size_t i = 0; i < got[r].size(); ++i) {
      EXPECT_EQ(Bits(got[r][i]), Bits(want[r][i])) << what << " list " << r << " value " << i;
    }
  }
}

// Both paths on one blob: the report's (DecodeLatencyRepeats) and the reference
// (LatencyRepeats of DecodeSamples).
void ExpectBothPathsAgree(const std::string& blob, const std::string& what) {
  auto samples = store::DecodeSamples(blob);
  auto direct = store::DecodeLatencyRepeats(blob);
  ASSERT_EQ(samples.ok(), direct.ok()) << what;
  if (!samples.ok()) {
    EXPECT_EQ(direct.status().message(), samples.status().message()) << what;
    return;
  }
  ExpectSameLatencies(*direct, LatencyRepeats(*samples), what);
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

TEST(SampleLatencies, DecodingABlobGivesLatencyRepeatsOfItsSamples) {
  std::map<std::string, std::vector<Sample>> cases;
  cases["none"] = {};
  // The usual: warm-up steps, then tokens, per repeat.
  for (int rep = 0; rep < 3; ++rep) {
    for (int i = 0; i < 20; ++i) {
      cases["usual"].push_back({rep, i, 1.0 + rep + i * 1e-3, 2.5, i < 4});
    }
  }
  // Gaps in the indices, repeats given out of order and far apart, negative ones.
  cases["gaps"] = {{5, 10, 1.5, 1, false}, {5, 3, 1.25, 1, false}, {-2, 0, 7, 1, false},
                   {5, 11, 1.75, 1, false}, {1000000, -4, 3, 1, false}, {5, 40, 2, 1, false}};
  // Warm-up in the middle of a repeat, and a repeat that is all warm-up (no list).
  cases["warmup"] = {{0, 0, 1, 1, false}, {0, 1, 2, 1, true}, {0, 2, 3, 1, false},
                     {1, 0, 4, 1, true},  {1, 1, 5, 1, true}, {2, 0, 6, 1, false}};
  // Non-finite latencies dropped; a repeat whose latencies are all NaN has no list.
  cases["nan"] = {{0, 0, kNaN, 1, false}, {0, 1, 2, kNaN, false}, {0, 2, kInf, 1, false},
                  {1, 0, -kInf, 1, false}, {1, 1, kNaN, 1, false}, {2, 0, -0.0, 1, false},
                  {2, 1, 5e-324, 1, false}, {2, 2, 1.7976931348623157e308, 1, false}};
  for (const auto& [name, samples] : cases) {
    auto blob = store::EncodeSamples(samples);
    ASSERT_TRUE(blob.ok()) << name;
    ExpectBothPathsAgree(*blob, name);
  }
  // And the report keeps what it says it keeps (snapshot.h): a check of the reference.
  auto warmup = store::DecodeLatencyRepeats(*store::EncodeSamples(cases["warmup"]));
  ASSERT_TRUE(warmup.ok());
  ExpectSameLatencies(*warmup, {{1, 3}, {6}}, "warmup, by hand");
  auto nan = store::DecodeLatencyRepeats(*store::EncodeSamples(cases["nan"]));
  ASSERT_TRUE(nan.ok());
  ExpectSameLatencies(*nan, {{2}, {-0.0, 5e-324, 1.7976931348623157e308}}, "nan, by hand");
}

// A version-1 blob written by hand, runs in the order given (EncodeSamples sorts them;
// the format allows any order).
struct Run {
  int32_t repeat, first;
  std::vector<double> latencies;
  bool warmup;
};
std::string HandBlob(const std::vector<Run>& runs) {
  std::string out(1, '\x01');
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto f64 = [&](double v) {
    const uint64_t b = Bits(v);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((b >> (8 * i)) & 0xff));
  };
  u32(static_cast<uint32_t>(runs.size()));
  for (const Run& r : runs) {
    u32(static_cast<uint32_t>(r.repeat));
    u32(static_cast<uint32_t>(r.first));
    u32(static_cast<uint32_t>(r.latencies.size()));
    out.push_back(r.warmup ? 1 : 0);
  }
  for (const Run& r : runs) {
    for (double v : r.latencies) f64(v);
  }
  for (const Run& r : runs) {
    for (size_t i = 0; i < r.latencies.size(); ++i) f64(0.5);
  }
  return out;
}

TEST(SampleLatencies, RunsOutOfRepeatOrderAreGroupedByRepeatInBlobOrder) {
  const std::string blob = HandBlob({{1, 10, {1, 2}, false},
                                     {0, 0, {3}, false},
                                     {1, 0, {4, 5}, true},
                                     {1, 0, {6, kNaN}, false},
                                     {2, 0, {}, false},
                                     {0, 5, {7}, false}});
  ExpectBothPathsAgree(blob, "hand-written");
  auto direct = store::DecodeLatencyRepeats(blob);
  ASSERT_TRUE(direct.ok()) << direct.status().message();
  ExpectSameLatencies(*direct, {{3, 7}, {1, 2, 6}}, "hand-written, by hand");
}

TEST(SampleLatencies, ADamagedBlobIsTheSameCorruptionAsDecodeSamplesGives) {
  const std::string blob = *store::EncodeSamples({{0, 0, 1, 2, false}, {1, 1, 3, 4, true}});
  for (size_t cut = 0; cut < blob.size(); ++cut) {
    auto r = store::DecodeLatencyRepeats(std::string_view(blob).substr(0, cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << cut;
    ExpectBothPathsAgree(blob.substr(0, cut), "cut at " + std::to_string(cut));
  }
  std::string other = blob;
  other[0] = 2;
  ExpectBothPathsAgree(other, "version 2");
  std::string huge = blob;
  huge[1] = huge[2] = huge[3] = huge[4] = '\xff';  // a run table past the end
  ExpectBothPathsAgree(huge, "huge run count");
}

// --- LoadSnapshot against the per-trial reads ---------------------------------------

class Snapshot : public testing::TempDb {};

store::SweepDef Sweep(const std::string& name, const std::vector<std::string>& configs) {
  store::SweepDef def;
  def.name = name;
  def.spec_path = "/fixture/" + name + ".yaml";
  def.spec_text = "name: " + name + "\n";
  def.spec_hash = Sha256Hex(def.spec_text);
  def.studies.push_back({"S", "Study S", "", "{}", {}});
  for (const std::string& c : configs) def.studies[0].cells.push_back({Sha256Hex(c), c, c, 1});
  return def;
}

// Finishes the attempt as `outcome` with metrics and samples (a failed one has samples
// too: the report must not read them), `repeats` repeats of a few tokens, warm-up first.
Status Finish(store::Store& db, const store::Claim& c, const std::string& outcome, int salt) {
  store::AttemptResult r;
  r.attempt_id = c.attempt_id;
  r.outcome = outcome;
  r.exit_code = outcome == "ok" ? 0 : 1;
  r.terminal = outcome == "ok";
  r.metrics = {{"ppl", 20.0 + salt}, {"tpot_ms_median", 1.0 + salt}};
  if (salt % 3 == 0) r.metrics["peak_alloc_bytes"] = kNaN;
  for (int rep = 0; rep < 1 + salt % 3; ++rep) {
    for (int i = 0; i < 6; ++i) {
      const double latency = i == 4 && salt % 2 ? kNaN : 1.0 + salt + rep * 0.25 + i * 1e-3;
      r.samples.push_back({rep, i, latency, 3.0, i < 2});
    }
  }
  if (salt % 4 == 1) r.samples.clear();  // an ok attempt without samples
  return db.FinishAttempt(r);
}

TEST_F(Snapshot, HoldsWhatThePerTrialReadsGiveWhenSweepsShareADatabase) {
  auto db = Open();
  ASSERT_TRUE(db);
  // "shared" is a trial of both sweeps: its attempts are both sweeps' attempts.
  auto a = db->UpsertSweep(Sweep("a", {"a1", "a2", "shared", "a3"}));
  auto b = db->UpsertSweep(Sweep("b", {"b1", "shared", "b2"}));
  ASSERT_TRUE(a.ok() && b.ok());
  const store::Owner owner{"host", 1, 1, ""};
  auto run_a = db->BeginRun(*a, owner, "{}");
  auto run_b = db->BeginRun(*b, owner, "{}");
  ASSERT_TRUE(run_a.ok() && run_b.ok());
  // The runs take turns, so the sweeps' attempt ids interleave; every third attempt
  // fails (and is retried).
  int salt = 0;
  for (bool more = true; more;) {
    more = false;
    for (auto [sweep, run] : {std::pair{*a, *run_a}, std::pair{*b, *run_b}}) {
      auto claim = db->ClaimNext(sweep, run, owner, "cpu:0",
                                 [](const std::string& k, int n) { return k + std::to_string(n); });
      ASSERT_TRUE(claim.ok()) << claim.status().message();
      if (!*claim) continue;
      more = true;
      ++salt;
      ASSERT_TRUE(Finish(*db, **claim, salt % 3 == 2 ? "oom" : "ok", salt).ok());
    }
  }
  for (const char* name : {"a", "b"}) {
    SCOPED_TRACE(name);
    StatusOr<SweepSnapshot> snap = LoadSnapshot(*db, name);
    ASSERT_TRUE(snap.ok()) << snap.status().message();
    auto trials = db->Trials(snap->sweep.id);
    ASSERT_TRUE(trials.ok());
    std::set<std::string> keys;
    for (const store::TrialRecord& t : *trials) keys.insert(t.key);
    // The trials as Trials reads them, in its order, their labels left out.
    ASSERT_EQ(snap->trials.size(), trials->size());
    int ok_replicates = 0;
    for (size_t i = 0; i < trials->size(); ++i) {
      const store::TrialRecord& g = snap->trials[i];
      const store::TrialRecord& w = (*trials)[i];
      EXPECT_EQ(g.key, w.key);
      EXPECT_EQ(g.config_json, w.config_json);
      EXPECT_EQ(g.state, w.state);
      EXPECT_EQ(g.outcome, w.outcome);
      EXPECT_EQ(g.attempts, w.attempts);
      EXPECT_EQ(g.final_attempt_id, w.final_attempt_id);
      EXPECT_EQ(g.replicates, w.replicates);
      EXPECT_EQ(g.ok_replicates, w.ok_replicates) << w.key;
      EXPECT_EQ(g.study_id, w.study_id);
      EXPECT_EQ(g.position, w.position);
      EXPECT_EQ(g.in_spec, w.in_spec);
      EXPECT_EQ(g.label, "");
      EXPECT_NE(w.label, "");
      ok_replicates += w.ok_replicates;
    }
    EXPECT_GT(ok_replicates, 0);
    ASSERT_EQ(snap->attempts.size(), keys.size());  // the sweep's trials, no other
    size_t failed = 0, with_latencies = 0;
    for (const std::string& key : keys) {
      ASSERT_EQ(snap->attempts.count(key), 1u) << key;
      const std::vector<AttemptData>& got = snap->attempts.at(key);
      auto want = db->Attempts(key);  // by number
      ASSERT_TRUE(want.ok());
      ASSERT_EQ(got.size(), want->size()) << key;
      for (size_t i = 0; i < got.size(); ++i) {
        const store::AttemptRecord& g = got[i].record;
        const store::AttemptRecord& w = (*want)[i];
        EXPECT_EQ(g.id, w.id);
        EXPECT_EQ(g.number, w.number);
        EXPECT_EQ(g.replicate, w.replicate);
        EXPECT_EQ(g.run_id, w.run_id);
        EXPECT_EQ(g.finished, w.finished);
        EXPECT_EQ(g.outcome, w.outcome);
        EXPECT_EQ(g.exit_code, w.exit_code);
        EXPECT_EQ(g.slot, w.slot);
        EXPECT_EQ(g.environment_json, w.environment_json);
        auto metrics = db->Metrics(w.id);
        ASSERT_TRUE(metrics.ok());
        ASSERT_EQ(got[i].metrics.size(), metrics->size()) << w.id;
        for (const auto& [m, v] : *metrics) {
          ASSERT_EQ(got[i].metrics.count(m), 1u) << m;
          EXPECT_EQ(Bits(got[i].metrics.at(m)), Bits(v)) << w.id << " " << m;
        }
        if (w.outcome == "ok") {
          auto samples = db->Samples(w.id);
          ASSERT_TRUE(samples.ok());
          ExpectSameLatencies(got[i].latencies, LatencyRepeats(*samples),
                              "attempt " + std::to_string(w.id));
          with_latencies += got[i].latencies.empty() ? 0 : 1;
        } else {
          ++failed;
          EXPECT_TRUE(got[i].latencies.empty()) << "failed attempt " << w.id;
        }
      }
    }
    EXPECT_GT(failed, 0u);  // the test has what it checks
    EXPECT_GT(with_latencies, 1u);
    EXPECT_EQ(snap->runs.size(), 2u);  // the shared trial's attempts are of both runs
  }
}

TEST_F(Snapshot, ADamagedSampleBlobIsAnErrorNamingItsAttempt) {
  auto db = Open();
  ASSERT_TRUE(db);
  auto a = db->UpsertSweep(Sweep("a", {"a1", "a2"}));
  ASSERT_TRUE(a.ok());
  const store::Owner owner{"host", 1, 1, ""};
  auto run = db->BeginRun(*a, owner, "{}");
  ASSERT_TRUE(run.ok());
  int64_t last = 0;
  for (int salt : {2, 3}) {
    auto claim = db->ClaimNext(*a, *run, owner, "cpu:0",
                               [](const std::string& k, int n) { return k + std::to_string(n); });
    ASSERT_TRUE(claim.ok() && *claim);
    ASSERT_TRUE(Finish(*db, **claim, "ok", salt).ok());
    last = (*claim)->attempt_id;
  }
  ASSERT_TRUE(LoadSnapshot(*db, "a").ok());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db->path().c_str(), &raw), SQLITE_OK);
  const std::string sql =
      "UPDATE sample_blobs SET data = x'0100000000ff' WHERE attempt_id = " + std::to_string(last);
  ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  StatusOr<SweepSnapshot> snap = LoadSnapshot(*db, "a");
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), Status::Code::kCorruption);
  EXPECT_NE(snap.status().message().find("attempt " + std::to_string(last) + ": samples blob"),
            std::string::npos)
      << snap.status().message();
}

TEST_F(Snapshot, ATrialsAttemptsAreInNumberOrderWhateverTheirIds) {
  auto db = Open();
  ASSERT_TRUE(db);
  auto a = db->UpsertSweep(Sweep("a", {"a1"}));
  ASSERT_TRUE(a.ok());
  const store::Owner owner{"host", 1, 1, ""};
  auto run = db->BeginRun(*a, owner, "{}");
  ASSERT_TRUE(run.ok());
  std::vector<int64_t> ids;
  for (const char* outcome : {"oom", "oom", "ok"}) {
    auto claim = db->ClaimNext(*a, *run, owner, "cpu:0",
                               [](const std::string& k, int n) { return k + std::to_string(n); });
    ASSERT_TRUE(claim.ok() && *claim);
    ASSERT_TRUE(Finish(*db, **claim, outcome, 3).ok());
    ids.push_back((*claim)->attempt_id);
  }
  // Numbers against the ids' order (orch numbers them in id order; an edited or merged
  // database need not): the first id becomes number 3, the last number 1.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db->path().c_str(), &raw), SQLITE_OK);
  const std::string sql = "UPDATE attempts SET number = -number; UPDATE attempts SET number = "
                          "4 + number;";
  ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  StatusOr<SweepSnapshot> snap = LoadSnapshot(*db, "a");
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  const std::vector<AttemptData>& got = snap->attempts.at(Sha256Hex("a1"));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].record.id, ids[2]);
  EXPECT_EQ(got[0].record.number, 1);
  EXPECT_EQ(got[1].record.id, ids[1]);
  EXPECT_EQ(got[2].record.id, ids[0]);
  EXPECT_EQ(got[2].record.number, 3);
  EXPECT_FALSE(got[0].latencies.empty());  // the ok one, now number 1
}

}  // namespace
}  // namespace orch::report
