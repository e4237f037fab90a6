// A worker that misbehaves in every way docs/protocol.md leaves open, driven end to end
// through `orch run`: each attempt gets its explained terminal outcome, the rest of the
// sweep runs, orch exits normally; `status`, `show` and `export` print nothing a terminal
// would act on and never fail on odd bytes in the database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>

#include <nlohmann/json.hpp>

#include "orchestrator/cli/terminal_text.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::RunOrch;
using testing::TempDir;
using testing::WriteText;

struct Trial {
  std::string key, outcome, reason;
  std::vector<store::AttemptRecord> attempts;
  std::map<std::string, double> metrics;
};

// Trials by x_behavior.
std::map<std::string, Trial> Trials(const std::string& db_path) {
  auto db = std::move(store::Store::Open(db_path, store::OpenMode::kReadOnly)).value();
  std::map<std::string, Trial> out;
  auto sweep = Must(db->FindSweep("hostile"));
  for (const auto& t : Must(db->Trials(sweep->id))) {
    auto c = nlohmann::json::parse(t.config_json);
    Trial& x = out[c.value("x_behavior", "ok")];
    x.key = t.key;
    x.outcome = t.state == store::TrialState::kDone ? t.outcome : store::TrialStateName(t.state);
    x.reason = t.reason;
    x.attempts = Must(db->Attempts(t.key));
    if (t.final_attempt_id) x.metrics = Must(db->Metrics(*t.final_attempt_id));
  }
  return out;
}

// Output a terminal may show: no ESC, no C1 CSI, no CR, valid UTF-8.
void ExpectInert(const std::string& what, const std::string& output) {
  EXPECT_EQ(output.find('\x1b'), std::string::npos) << what << ":\n" << output;
  EXPECT_EQ(output.find("\xc2\x9b"), std::string::npos) << what << ":\n" << output;
  EXPECT_EQ(output.find('\r'), std::string::npos) << what << ":\n" << output;
  EXPECT_EQ(FirstInvalidUtf8(output), std::string::npos) << what << ":\n" << output;
}

// status, status --json and both exports exit 0 on whatever the database holds.
void ExpectReadable(const std::string& dir) {
  for (const char* cmd : {"status", "status --json"}) {
    auto out = RunOrch(dir, cmd);
    EXPECT_EQ(out.exit_code, 0) << cmd << "\n" << out.output;
    ExpectInert(cmd, out.output);
  }
  for (const char* cmd : {"export --format csv", "export --format json"}) {
    auto out = RunOrch(dir, cmd);
    EXPECT_EQ(out.exit_code, 0) << cmd << "\n" << out.output;
    EXPECT_EQ(FirstInvalidUtf8(out.output), std::string::npos) << cmd << "\n" << out.output;
  }
  auto json = RunOrch(dir, "export --format json");
  EXPECT_TRUE(nlohmann::json::accept(json.output)) << json.output;
  // Streamed a trial at a time, written without a document when the config allows: still
  // the bytes of one indented dump of the whole array.
  if (nlohmann::json::accept(json.output)) {
    EXPECT_EQ(json.output, nlohmann::json::parse(json.output)
                                   .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                               "\n");
  }
}

const char kSpec[] = "name: hostile\nworker: " FAKE_WORKER
                     "\ndefaults: {tokens: 8, timeout: 20, heartbeat_timeout: 10}\nstudies:\n"
                     "  - id: A\n    matrix:\n      x_behavior: [ok, bad_type, nan_literals, "
                     "unknown_outcome, claims_interrupted, bad_utf8, truncated, huge, "
                     "garbage_events, bad_stderr, fifo_result, duplicate_repeat, "
                     "number_overflow]\n";

TEST(HostileWorker, EveryMisbehaviourEndsInAnExplainedOutcome) {
  TempDir d;
  WriteText(d / "spec.yaml", kSpec);
  auto r = RunOrch(d.path(), "run spec.yaml -j 2 --kill-grace 0.2");
  ASSERT_EQ(r.exit_code, 0) << r.output;  // before: abort, exit 134 (type_error.302)
  ExpectInert("orch run", r.output);
  auto t = Trials(d / "results/orch.db");
  ASSERT_EQ(t.size(), 13u);
  EXPECT_EQ(t["ok"].outcome, "ok");
  EXPECT_EQ(t["bad_type"].outcome, "error");
  EXPECT_EQ(t["bad_type"].reason,
            "invalid result.json: samples[0].repeat is a string, not an integer >= 0");
  EXPECT_EQ(t["nan_literals"].outcome, "ok") << t["nan_literals"].reason;
  EXPECT_EQ(t["nan_literals"].metrics.at("tokens_evaluated"), 4);
  EXPECT_TRUE(std::isnan(t["nan_literals"].metrics.at("ppl")));
  // The store keeps every non-finite metric as "not finite" (NULL), read back as NaN.
  EXPECT_FALSE(std::isfinite(t["nan_literals"].metrics.at("tpot_ms_median")));
  // Two entries for one repeat would collide in the store's (attempt, repeat, index) key
  // and fail the result's transaction on every resume; a number beyond double's range
  // made the JSON parser throw out of orch.
  EXPECT_EQ(t["duplicate_repeat"].outcome, "error");
  EXPECT_NE(t["duplicate_repeat"].reason.find("samples[1].repeat: repeat 0 is given twice"),
            std::string::npos)
      << t["duplicate_repeat"].reason;
  EXPECT_EQ(t["number_overflow"].outcome, "error");
  EXPECT_NE(t["number_overflow"].reason.find("invalid result.json"), std::string::npos)
      << t["number_overflow"].reason;
  EXPECT_EQ(t["unknown_outcome"].outcome, "error");
  EXPECT_NE(t["unknown_outcome"].reason.find("unknown outcome 'splendid'"), std::string::npos);
  EXPECT_EQ(t["claims_interrupted"].outcome, "error");
  EXPECT_EQ(t["claims_interrupted"].attempts.size(), 1u);  // not retried as transient
  EXPECT_EQ(t["bad_utf8"].outcome, "error");
  EXPECT_NE(t["bad_utf8"].reason.find("invalid result.json: not valid JSON"), std::string::npos)
      << t["bad_utf8"].reason;
  EXPECT_EQ(t["truncated"].outcome, "error");
  EXPECT_NE(t["truncated"].reason.find("invalid result.json: not valid JSON"), std::string::npos);
  EXPECT_EQ(t["huge"].outcome, "error");
  EXPECT_EQ(t["huge"].reason, "invalid result.json: result.json is larger than 64 MiB");
  EXPECT_EQ(t["garbage_events"].outcome, "blocked");
  EXPECT_EQ(t["garbage_events"].reason, "needs a kernel\x1b[2J\r\nsecond line\xc2\x9b");
  ASSERT_EQ(t["garbage_events"].attempts.size(), 1u);
  auto warnings = nlohmann::json::parse(t["garbage_events"].attempts[0].warnings_json);
  EXPECT_EQ(warnings,
            (nlohmann::json{"orch: dropped an event line longer than 1 MiB (and any later ones)",
                            "\x1b[31mred warning\x1b[0m"}));
  EXPECT_EQ(t["bad_stderr"].outcome, "error");
  EXPECT_EQ(t["bad_stderr"].reason,
            "exit code 3: fatal: caf\xEF\xBF\xBD \x1b[2J\x1b]0;pwned\x07 done\r");
  EXPECT_EQ(t["fifo_result"].outcome, "error");  // not read: it would block orch forever
  EXPECT_EQ(t["fifo_result"].reason, "the worker exited 0 without writing result.json");
  for (const auto& [b, trial] : t) {
    for (const auto& a : trial.attempts) EXPECT_TRUE(a.finished) << b;
  }

  // What people read of it: escaped, whole, exit 0. Exports are data: the stored text,
  // as valid UTF-8 (JSON escapes C0 controls itself; CSV quotes line breaks).
  ExpectReadable(d.path());
  for (const char* b : {"garbage_events", "bad_stderr", "bad_utf8"}) {
    auto out = RunOrch(d.path(), "show " + t[b].key);
    EXPECT_EQ(out.exit_code, 0) << out.output;
    ExpectInert(std::string("show ") + b, out.output);
  }
  // Non-finite metrics and samples (nan_literals) are data the report shows.
  auto report = RunOrch(d.path(), "report --out " + (d / "report"));
  EXPECT_EQ(report.exit_code, 0) << report.output;
  std::ifstream md(d / "report/report.md");
  std::string markdown((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(markdown.find("PPL not finite"), std::string::npos) << markdown;
  auto show = RunOrch(d.path(), "show " + t["garbage_events"].key);
  EXPECT_NE(show.output.find("needs a kernel\\x1b[2J\\r\\nsecond line\\x9b"), std::string::npos)
      << show.output;
}

// Bytes no current orch writes, but an older one, a hand edit or a damaged disk may have
// left: invalid UTF-8 and control characters in every text column people see.
void Tamper(const std::string& db_path, bool config) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  const std::string bad = "'x' || char(27) || '[2J' || CAST(X'FFC328' AS TEXT) || char(13, 10)";
  for (const std::string& sql : std::vector<std::string>{
           "UPDATE trials SET reason = " + bad,
           config ? std::string("UPDATE trials SET config_json = '{\"quant\":\"' || "
                                "CAST(X'FF' AS TEXT) || '\",\"x_behavior\":\"ok\"}'")
                  : std::string("UPDATE trials SET config_json = config_json"),
           "UPDATE attempts SET stderr_tail = " + bad + ", reason = " + bad +
               ", warnings_json = '[\"' || CAST(X'C3' AS TEXT) || '\"]', details_json = " + bad,
           "UPDATE metrics SET name = name || " + bad,
           "UPDATE sweeps SET spec_path = " + bad,
       }) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  sqlite3_close(db);
}

TEST(HostileWorker, OddBytesInTheDatabaseNeverBreakTheReaders) {
  TempDir d;
  WriteText(d / "spec.yaml", std::string("name: hostile\nworker: ") + FAKE_WORKER +
                                 "\nstudies:\n  - id: A\n"
                                 "    matrix: {x_behavior: [ok, bad_stderr]}\n");
  ASSERT_EQ(RunOrch(d.path(), "run spec.yaml").exit_code, 0);
  auto t = Trials(d / "results/orch.db");
  Tamper(d / "results/orch.db", /*config=*/false);
  auto report = RunOrch(d.path(), "report --out " + (d / "report"));
  EXPECT_EQ(report.exit_code, 0) << report.output;
  // A config that is no longer JSON at all: the report says so; the rest still show it.
  Tamper(d / "results/orch.db", /*config=*/true);
  ExpectReadable(d.path());  // export --format json threw type_error.316 on these
  for (const auto& [b, trial] : t) {
    auto out = RunOrch(d.path(), "show " + trial.key);
    EXPECT_EQ(out.exit_code, 0) << out.output;
    ExpectInert("show", out.output);
  }
}

TEST(HostileWorker, CsvCellsCannotBecomeFormulas) {
  TempDir d;
  WriteText(d / "spec.yaml", std::string("name: hostile\nworker: ") + FAKE_WORKER +
                                 "\nstudies:\n  - id: A\n    matrix: {x_behavior: [ok], "
                                 "x_f: ['=HYPERLINK(\"http://x\")', '+1', '@SUM(A1)', '-2']}\n");
  ASSERT_EQ(RunOrch(d.path(), "run spec.yaml").exit_code, 0);
  auto csv = RunOrch(d.path(), "export --format csv").output;
  EXPECT_NE(csv.find(",\"'=HYPERLINK(\"\"http://x\"\")\""), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'+1"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'@SUM(A1)"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'-2"), std::string::npos) << csv;
  for (const char* formula : {",=", ",+", ",@", ",-"}) {
    EXPECT_EQ(csv.find(formula), std::string::npos) << formula << "\n" << csv;
  }
}

TEST(Main, AnInternalErrorExitsOneWithAMessageNeverAborts) {
  TempDir d;
  WriteText(d / "spec.yaml", std::string("name: s\nworker: ") + FAKE_WORKER +
                                 "\nstudies:\n  - id: A\n    matrix: {quant: [none]}\n");
  // A --db path whose name is too long for the filesystem: std::filesystem throws
  // (ENAMETOOLONG) from inside a command; before, that was terminate() and exit 134.
  auto r = RunOrch(d.path(), "plan spec.yaml --db " + std::string(300, 'a') + "/orch.db");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("orch: internal error: "), std::string::npos) << r.output;
}

}  // namespace
}  // namespace orch
