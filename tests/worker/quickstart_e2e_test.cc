// A reduced quickstart through the real orch and orch-worker: the committed model
// (models/quickstart), the held-out man-page text extracted as `make demo` does, then
// plan, run, SIGKILL of the orchestrator mid-sweep, resume, report; the report's numbers
// are checked against the database (orch export --format json), and a second run runs
// nothing and rewrites the same report. Skips, saying why, where python3 or the Debian
// man pages (packages manpages, manpages-dev) are missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "orch_process.h"
#include "test_util.h"

namespace orch {
namespace {

using Json = nlohmann::json;
using testing::OrchLog;
using testing::RunOrch;
using testing::SpawnOrchWith;
using testing::WaitOrch;
using testing::TempDir;
using testing::WriteText;

const std::string kRoot = std::string(ORCH_TEST_FIXTURES) + "/../..";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The trials of the sweep as `orch export` prints them; empty while there is no database.
Json Export(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/results/orch.db")) return Json::array();
  auto r = RunOrch(dir, "export --format json 2>/dev/null");
  if (r.exit_code != 0) return Json::array();
  Json j = Json::parse(r.output, nullptr, false);
  if (j.is_object() && j.contains("trials")) j = j["trials"];
  return j.is_array() ? j : Json::array();
}

// Distinct trials (export lists a trial once per cell that names it; study C's fp32 cell
// is study A's none), and those done.
size_t Distinct(const Json& trials) {
  std::set<std::string> keys;
  for (const auto& t : trials) keys.insert(t.value("key", ""));
  return keys.size();
}
int DoneTrials(const Json& trials) {
  std::set<std::string> keys;
  for (const auto& t : trials) {
    if (t.value("state", "") == "done") keys.insert(t.value("key", ""));
  }
  return static_cast<int>(keys.size());
}

std::string Fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// The rows of report.md's per-study tables (variant, scope, window, dtype, compile, PPL,
// TPOT, ...) that name trial `key12`.
std::vector<std::string> ReportRows(const std::string& md, const std::string& key12) {
  std::vector<std::string> rows;
  std::istringstream in(md);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| ", 0) == 0 && line.find("| `" + key12 + "` |") != std::string::npos &&
        line.find(" | eager | ") != std::string::npos) {
      rows.push_back(line);
    }
  }
  return rows;
}

TEST(QuickstartE2E, ReducedQuickstartSurvivesSigkillAndReportsTheDatabasesNumbers) {
  TempDir d;
  const std::string model = kRoot + "/models/quickstart";
  const std::string text = d / "heldout.txt";
  std::string extract = "python3 '" + kRoot + "/tools/quickstart_model/extract_text.py' --heldout '" +
                        text + "' > '" + (d / "extract.log") + "' 2>&1";
  if (std::system(extract.c_str()) != 0) {
    GTEST_SKIP() << "cannot extract the quickstart's held-out text (needs python3 and the Debian "
                    "packages manpages, manpages-dev; scripts/install-deps.sh installs them): "
                 << ReadAll(d / "extract.log");
  }
  WriteText(d / "spec.yaml", "name: quickstart-e2e\nworker: " ORCH_WORKER_BIN "\nmodel: " + model +
                                 "\ntokenizer: " + model + "/tokenizer.json\ndataset: " + text + "\n" +
                                 R"(device: cpu
defaults: {tokens: 32, warmup: 2, repeats: 1, seed: 0, timeout: 120, heartbeat_timeout: 30}
studies:
  - id: A
    title: quantization
    window: full
    matrix: {quant: [none, int8wo, int8wo-unscaled]}
    baseline: {quant: none}
  - id: B
    title: windows past the trained context
    tokens: 264
    matrix: {window: [16]}
    include: [{window: full}]
    baseline: {window: full}
  - id: C
    title: dtypes
    matrix: {dtype: [fp32, fp16]}
    baseline: {dtype: fp32}
  - id: D
    title: modes
    matrix: {mode: [profile, sanity]}
)");
  auto plan = RunOrch(d.path(), "plan spec.yaml");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("8 distinct trials"), std::string::npos) << plan.output;

  // Run with one worker at a time, SIGKILL the orchestrator once two trials are done.
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "--db", "results/orch.db"});
  int done_before = 0;
  for (int i = 0; i < 600 && done_before < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    done_before = DoneTrials(Export(d.path()));
  }
  ASSERT_GE(done_before, 2) << OrchLog(d.path(), orch);
  ASSERT_EQ(kill(orch, SIGKILL), 0);
  ASSERT_EQ(WaitOrch(orch), 128 + SIGKILL) << "orch finished the sweep before the kill: "
                                   << OrchLog(d.path(), orch);
  const Json before = Export(d.path());
  ASSERT_EQ(Distinct(before), 8u);
  ASSERT_LT(DoneTrials(before), 8) << "nothing left to resume";
  std::set<std::string> finished_before;
  for (const auto& t : before) {
    if (t["state"] == "done") finished_before.insert(t["key"].get<std::string>());
  }

  // The orphaned worker dies at its next event write; resume runs only what is left.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const auto t_resume = std::chrono::steady_clock::now();
  auto resume = RunOrch(d.path(), "resume");
  std::cout << "resume took " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t_resume).count() << " s\n" << resume.output;
  ASSERT_EQ(resume.exit_code, 0) << resume.output;

  const Json trials = Export(d.path());
  ASSERT_EQ(Distinct(trials), 8u);
  ASSERT_EQ(trials.size(), 9u);
  std::map<std::string, Json> by_cell;  // study + varying config -> trial
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "done") << t.dump();
    EXPECT_EQ(t["outcome"], "ok") << t["key"] << ": " << t.value("reason", "");
    if (finished_before.count(t["key"].get<std::string>())) {
      EXPECT_EQ(t["attempts"], 1) << "a trial finished before the kill ran again: " << t["key"];
    }
    const Json& c = t["config"];
    auto str = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    by_cell[t["study"].get<std::string>() + " " + str(c["quant"]) + " " + str(c["window"]) + " " +
            str(c["dtype"]) + " " + str(c["mode"])] = t;
  }
  auto ppl = [&](const std::string& cell) {
    auto it = by_cell.find(cell);
    EXPECT_NE(it, by_cell.end()) << cell;
    return it == by_cell.end() ? 0.0 : it->second["metrics"].value("ppl", 0.0);
  };
  // The trained model: far below the uniform perplexity of its 2048 ids; the broken control
  // is caught; int8 keeps the perplexity; the window changes it.
  const double base = ppl("A none full fp32 eval");
  EXPECT_GT(base, 1.0);
  EXPECT_LT(base, 2048.0 / 4);
  EXPECT_GT(ppl("A int8wo-unscaled full fp32 eval"), base * 1.05);
  EXPECT_NEAR(ppl("A int8wo full fp32 eval"), base, base * 0.01);
  EXPECT_NE(ppl("B none 16 fp32 eval"), ppl("B none full fp32 eval"));

  // The report's tables print each trial's PPL and TPOT median as the database has them.
  auto report = RunOrch(d.path(), "report --out rep");
  ASSERT_EQ(report.exit_code, 0) << report.output;
  const std::string md = ReadAll(d / "rep/report.md");
  int checked = 0;
  for (const auto& t : trials) {
    const std::string key12 = t["key"].get<std::string>().substr(0, 12);
    const auto rows = ReportRows(md, key12);
    ASSERT_FALSE(rows.empty()) << "no table row for " << key12;
    const Json& m = t["metrics"];
    for (const auto& row : rows) {
      if (m.contains("ppl")) {
        EXPECT_NE(row.find("| " + Fixed2(m["ppl"].get<double>()) + " |"), std::string::npos)
            << key12 << " ppl " << m["ppl"] << " not in: " << row;
      }
      if (m.contains("tpot_ms_median")) {
        EXPECT_NE(row.find("| " + Fixed2(m["tpot_ms_median"].get<double>()) + " ["), std::string::npos)
            << key12 << " tpot " << m["tpot_ms_median"] << " not in: " << row;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 9);

  // A second run runs nothing and the report is rewritten byte for byte.
  auto again = RunOrch(d.path(), "run spec.yaml --db results/orch.db");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to run"), std::string::npos) << again.output;
  ASSERT_EQ(RunOrch(d.path(), "report --out rep2").exit_code, 0);
  for (const char* f : {"report.md", "tables.tex", "snippet.md", "snippet.tex"}) {
    EXPECT_EQ(ReadAll(d / (std::string("rep/") + f)), ReadAll(d / (std::string("rep2/") + f))) << f;
  }
}

}  // namespace
}  // namespace orch
