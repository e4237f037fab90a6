// Samples as one blob per attempt (schema 6, store/sample_blob.h): the encoding returns
// every value bit for bit, an older database's rows migrate exactly, `orch export
// --samples` gives them back exactly, and the attempt in flight during the upgrade from
// schema 2 finishes as one replicate (issue 17, L7).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "old_database.h"
#include "store/sample_blob.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch::store {
namespace {

using orch::testing::TempDir;

uint64_t Bits(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// Equal as stored: the same bits, or both NaN (NULL rows read back as NaN).
::testing::AssertionResult SameValue(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return ::testing::AssertionSuccess();
  if (Bits(a) == Bits(b)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " (bits " << Bits(a) << ") vs " << b << " (bits "
                                       << Bits(b) << ")";
}

void ExpectSameSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].repeat, want[i].repeat) << i;
    EXPECT_EQ(got[i].index, want[i].index) << i;
    EXPECT_EQ(got[i].warmup, want[i].warmup) << i;
    EXPECT_TRUE(SameValue(got[i].latency_ms, want[i].latency_ms)) << i;
    EXPECT_TRUE(SameValue(got[i].nll, want[i].nll)) << i;
  }
}

TEST(SampleBlob, EveryValueComesBackBitForBit) {
  std::mt19937_64 rng(18);
  std::vector<Sample> samples;
  // Usual shape (warm-up, then tokens, two repeats), then gaps, negative and huge
  // indices, and values at the edges of double.
  for (int rep = 0; rep < 2; ++rep) {
    for (int i = 0; i < 40; ++i) {
      double x = 0;
      uint64_t bits = rng();
      std::memcpy(&x, &bits, sizeof(x));
      if (!std::isfinite(x)) x = 1.5;
      samples.push_back({rep, i, x, std::ldexp(static_cast<double>(rng() >> 11), -53), i < 8});
    }
  }
  const double edge[] = {-0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1,
                         -3.141592653589793};
  int index = 100;
  for (double v : edge) samples.push_back({7, index += 3, v, -v, index % 2 == 0});
  samples.push_back({-2, std::numeric_limits<int>::max(), 1.0, 2.0, false});
  samples.push_back({std::numeric_limits<int>::max(), std::numeric_limits<int>::min(), 3, 4, true});
  auto blob = EncodeSamples(samples);
  ASSERT_TRUE(blob.ok()) << blob.status().message();
  auto back = DecodeSamples(*blob);
  ASSERT_TRUE(back.ok()) << back.status().message();
  std::vector<Sample> want = samples;
  std::stable_sort(want.begin(), want.end(), [](const Sample& a, const Sample& b) {
    return a.repeat != b.repeat ? a.repeat < b.repeat : a.index < b.index;
  });
  ExpectSameSamples(*back, want);
  // The usual shape costs 16 bytes a token plus a few runs.
  std::vector<Sample> usual(samples.begin(), samples.begin() + 80);
  EXPECT_EQ(EncodeSamples(usual)->size(), 1 + 4 + 4 * 13 + 80 * 16u);
}

TEST(SampleBlob, NonFiniteValuesReadBackAsNaNAndDuplicatesAreRefused) {
  const double inf = std::numeric_limits<double>::infinity();
  auto back = DecodeSamples(*EncodeSamples({{0, 0, inf, -inf, false}, {0, 1, NAN, 1, false}}));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(std::isnan((*back)[0].latency_ms));
  EXPECT_TRUE(std::isnan((*back)[0].nll));
  EXPECT_TRUE(std::isnan((*back)[1].latency_ms));
  auto twice = EncodeSamples({{0, 3, 1, 1, false}, {0, 3, 2, 2, false}});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("(repeat 0, index 3) is given twice"), std::string::npos);
}

TEST(SampleBlob, ADamagedBlobIsCorruptionNotACrash) {
  std::string blob = *EncodeSamples({{0, 0, 1, 2, false}, {0, 1, 3, 4, false}});
  for (size_t cut = 0; cut < blob.size(); ++cut) {
    auto r = DecodeSamples(std::string_view(blob).substr(0, cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << cut;
  }
  std::string other = blob;
  other[0] = 2;
  EXPECT_NE(DecodeSamples(other).status().message().find("format version 2"), std::string::npos);
  std::string huge = blob;
  huge[1] = huge[2] = huge[3] = huge[4] = '\xff';  // 2^32 - 1 runs
  EXPECT_FALSE(DecodeSamples(huge).ok());
}

// Rows of a schema-5 database: one ok attempt with warm-up and token rows in two
// repeats, values a worker may have written (NULL = not finite), and a second attempt.
constexpr const char* kVersionFiveRows = R"sql(
INSERT INTO sweeps(id, name, spec_path, spec_text, spec_hash, created_utc, updated_utc)
  VALUES(1, 'old', '/x.yaml', 'name: old', 'h', 't', 't');
INSERT INTO studies(sweep_id, study_id, position, title) VALUES(1, 'A', 0, 'A');
INSERT INTO trials(key, config_json, state, outcome, attempts, updated_utc, final_attempt_id)
  VALUES('aaaa', '{}', 'done', 'ok', 2, 't', 2);
INSERT INTO memberships(sweep_id, study_id, trial_key, position) VALUES(1, 'A', 'aaaa', 0);
INSERT INTO runs(id, sweep_id, host, pid, pid_start, started_utc) VALUES(1, 1, 'h', 99, 3, 't');
INSERT INTO attempts(id, trial_key, number, run_id, host, pid, pid_start, started_utc, finished, outcome)
  VALUES(1, 'aaaa', 1, 1, 'h', 99, 3, 't', 1, 'crash'), (2, 'aaaa', 2, 1, 'h', 99, 3, 't', 1, 'ok');
INSERT INTO samples(attempt_id, repeat, idx, latency_ms, nll, warmup) VALUES
  (1, 0, 0, 12.5, NULL, 0),
  (2, 0, 0, 100.25, 2.5, 1), (2, 0, 1, 0.1, 3.0000000000000004, 1),
  (2, 0, 2, 9.87654321012345678, 1e-300, 0), (2, 0, 3, NULL, 4.9406564584124654e-324, 0),
  (2, 0, 5, 1.7976931348623157e308, -0.0, 0), (2, 1, 0, 33.3, 2.718281828459045, 1),
  (2, 1, 1, 10.000000000000002, 7, 0), (2, 1, 2, 1e15, -2.5, 0);
)sql";

// The rows as the older orch read them (store_reads.cc before schema 6).
std::vector<Sample> RowsOf(const std::string& path, int64_t attempt) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT repeat, idx, latency_ms, nll, warmup FROM samples WHERE "
                               "attempt_id = ?1 ORDER BY repeat, idx",
                               -1, &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_int64(st, 1, attempt);
  std::vector<Sample> out;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  while (sqlite3_step(st) == SQLITE_ROW) {
    out.push_back({sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
                   sqlite3_column_type(st, 2) == SQLITE_NULL ? nan : sqlite3_column_double(st, 2),
                   sqlite3_column_type(st, 3) == SQLITE_NULL ? nan : sqlite3_column_double(st, 3),
                   sqlite3_column_int(st, 4) != 0});
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST(SampleMigration, AVersionFiveDatabasesRowsBecomeBlobsExactly) {
  TempDir d;
  const std::string path = d / "orch.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 5, kVersionFiveRows));
  const std::vector<Sample> rows1 = RowsOf(path, 1), rows2 = RowsOf(path, 2);
  ASSERT_EQ(rows2.size(), 8u);
  // A reader (orch report after an upgrade) migrates it.
  auto s = Store::Open(path, OpenMode::kReadOnly);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(Must((*s)->schema_version()), kSchemaVersion);
  EXPECT_TRUE((*s)->IntegrityCheck().ok());
  ExpectSameSamples(Must((*s)->Samples(1)), rows1);
  ExpectSameSamples(Must((*s)->Samples(2)), rows2);
  EXPECT_TRUE(Must((*s)->Samples(3)).empty());
  std::vector<int64_t> ok_attempts;
  ASSERT_TRUE((*s)->ForEachSamples(1, /*ok_only=*/true, [&](int64_t id, std::vector<Sample>&& v) {
    ok_attempts.push_back(id);
    ExpectSameSamples(v, rows2);
  }).ok());
  EXPECT_EQ(ok_attempts, std::vector<int64_t>{2});
  s->reset();
  // The rows' table is gone (its pages are free for reuse).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'samples'", -1,
                               &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);

  // `orch export --samples` gives every value back exactly (%.17g reads back to the
  // same double; an empty field is a value that was not finite).
  auto r = orch::testing::RunOrch(d.path(), "export --samples --db orch.db");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "key,attempt,replicate,outcome,repeat,index,latency_ms,nll,warmup");
  std::vector<Sample> exported1, exported2;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::stringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) f.push_back(c);
    if (line.back() == ',') f.push_back("");
    ASSERT_EQ(f.size(), 9u) << line;
    auto number = [](const std::string& t) {
      return t.empty() ? std::numeric_limits<double>::quiet_NaN() : std::strtod(t.c_str(), nullptr);
    };
    Sample x{std::stoi(f[4]), std::stoi(f[5]), number(f[6]), number(f[7]), f[8] == "1"};
    (f[1] == "1" ? exported1 : exported2).push_back(x);
    EXPECT_EQ(f[3], f[1] == "1" ? "crash" : "ok");
  }
  ExpectSameSamples(exported1, rows1);
  ExpectSameSamples(exported2, rows2);
}

// L7 (issue 17): an attempt started under schema 2 ran the trial's repeats in one
// process (trial.json said `repeats: 3`). Schema 3 gave its trial 3 replicates; when its
// result (three repeats) is recorded after the upgrade, the trial is done as one
// replicate, not pending for two more fresh processes.
// The reads the report uses (issue 18): blobs by id range, as stored and within the
// bounds only; every attempt by id without the columns no report shows.
TEST(SampleStore, TheReportsReadsGiveBlobsInTheirIdRangeAndAttemptsById) {
  TempDir d;
  const std::string path = d / "orch.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 5, kVersionFiveRows));
  const std::vector<Sample> rows1 = RowsOf(path, 1), rows2 = RowsOf(path, 2);
  auto s = Store::Open(path, OpenMode::kReadOnly);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto blobs = [&](int64_t first, int64_t last) {
    std::vector<int64_t> ids;
    EXPECT_TRUE((*s)->ForEachSampleBlobInRange(first, last, [&](int64_t id, std::string_view b) {
      ids.push_back(id);
      ExpectSameSamples(Must(DecodeSamples(b)), id == 1 ? rows1 : rows2);
    }).ok());
    return ids;
  };
  EXPECT_EQ(blobs(1, 2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(blobs(2, 2), std::vector<int64_t>{2});
  EXPECT_EQ(blobs(0, 1), std::vector<int64_t>{1});
  EXPECT_TRUE(blobs(3, 100).empty());
  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE((*s)->ForEachAttemptById([&](AttemptRecord&& a) {
    attempts.push_back(std::move(a));
  }).ok());
  ASSERT_EQ(attempts.size(), 2u);
  for (int64_t id : {1, 2}) {
    const AttemptRecord& got = attempts[id - 1];
    const AttemptRecord want = *Must((*s)->FindAttempt(id));
    EXPECT_EQ(got.id, id);
    EXPECT_EQ(got.trial_key, want.trial_key);
    EXPECT_EQ(got.number, want.number);
    EXPECT_EQ(got.outcome, want.outcome);
    EXPECT_EQ(got.finished, want.finished);
    EXPECT_EQ(got.owner.pid, want.owner.pid);
    EXPECT_EQ(want.owner.host, "h");  // stored, and left out:
    EXPECT_EQ(got.owner.host, "");
    EXPECT_EQ(got.attempt_dir, "");
    EXPECT_EQ(got.log_path, "");
  }
}

TEST(SampleMigration, TheAttemptInFlightAcrossTheUpgradeFromSchemaTwoEndsItsTrial) {
  TempDir d;
  const std::string path = d / "orch.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 2, R"sql(
INSERT INTO sweeps(id, name, spec_path, spec_text, spec_hash, created_utc, updated_utc)
  VALUES(1, 'old', '/x.yaml', 'name: old', 'h', 't', 't');
INSERT INTO studies(sweep_id, study_id, position, title) VALUES(1, 'A', 0, 'A');
INSERT INTO trials(key, config_json, state, attempts, updated_utc) VALUES
  ('aaaa', '{"repeats": 3}', 'running', 1, 't'), ('bbbb', '{"repeats": 3}', 'pending', 0, 't');
INSERT INTO memberships(sweep_id, study_id, trial_key, position) VALUES
  (1, 'A', 'aaaa', 0), (1, 'A', 'bbbb', 1);
INSERT INTO runs(id, sweep_id, host, pid, pid_start, started_utc) VALUES(1, 1, 'h', 99, 3, 't');
INSERT INTO attempts(id, trial_key, number, run_id, host, pid, pid_start, started_utc)
  VALUES(1, 'aaaa', 1, 1, 'h', 99, 3, 't');
)sql"));
  auto s = std::move(Store::Open(path)).value();
  EXPECT_EQ(Must(s->FindTrial("aaaa")).replicates, 3);  // schema 3 asked for 3 processes
  AttemptResult r;
  r.attempt_id = 1;
  r.outcome = "ok";
  for (int rep = 0; rep < 3; ++rep) {
    for (int i = 0; i < 4; ++i) r.samples.push_back({rep, i, 10.0 + rep, 2.0, false});
  }
  ASSERT_TRUE(s->FinishAttempt(r).ok());
  const TrialRecord t = Must(s->FindTrial("aaaa"));
  EXPECT_EQ(t.state, TrialState::kDone);
  EXPECT_EQ(t.outcome, "ok");
  EXPECT_EQ(t.replicates, 1);
  EXPECT_EQ(t.ok_replicates, 1);
  EXPECT_EQ(Must(s->Samples(1)).size(), 12u);

  // A replicate of this orch (one repeat per process) still needs its siblings.
  int64_t run = Must(s->BeginRun(1, {"host", 1, 1}, "{}"));
  auto c = Must(s->ClaimNext(1, run, {"host", 1, 1}, "cpu:0", [](const std::string&, int) {
    return StatusOr<std::string>(std::string("/tmp/x"));
  }));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trial_key, "bbbb");
  AttemptResult one;
  one.attempt_id = c->attempt_id;
  one.outcome = "ok";
  for (int i = 0; i < 4; ++i) one.samples.push_back({0, i, 10.0, 2.0, false});
  ASSERT_TRUE(s->FinishAttempt(one).ok());
  const TrialRecord b = Must(s->FindTrial("bbbb"));
  EXPECT_EQ(b.state, TrialState::kPending);
  EXPECT_EQ(b.replicates, 3);
}

}  // namespace
}  // namespace orch::store
