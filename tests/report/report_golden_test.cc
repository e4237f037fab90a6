#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "base/atomic_file.h"
#include "fixture_db.h"
#include "report/report.h"
#include "store/store.h"

namespace orch::report {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(ORCH_TEST_FIXTURES) / "report";

// A fresh temporary directory per test, removed afterwards.
class ReportDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("orch_report_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_path_ = (dir_ / "orch.db").string();
    ASSERT_TRUE(testing::BuildFixtureDb(db_path_).ok());
    StatusOr<std::unique_ptr<store::Store>> db =
        store::Store::Open(db_path_, store::OpenMode::kReadOnly);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  std::string Write(const std::string& name) {
    ReportOptions opts;
    opts.out_dir = (dir_ / name).string();
    Status s = WriteReport(*db_, opts);
    EXPECT_TRUE(s.ok()) << s.message();
    return opts.out_dir;
  }

  static std::string Read(const fs::path& p) {
    StatusOr<std::string> s = ReadFile(p.string());
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : "";
  }

  static std::vector<std::string> Files(const fs::path& root) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
  std::string db_path_;
  std::unique_ptr<store::Store> db_;
};

// The store stamps runs and attempts with the wall clock when the fixture is built;
// the goldens hold a placeholder there (determinism is checked on one database below).
std::string MaskRecordedTimes(const std::string& text) {
  static const std::regex kUtc("\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z?");
  return std::regex_replace(text, kUtc, "YYYY-MM-DDTHH:MM:SSZ");
}

TEST_F(ReportDir, GoldenFilesMatch) {
  const fs::path out = Write("report");
  const bool update = std::getenv("ORCH_UPDATE_GOLDEN") != nullptr &&
                      std::string(std::getenv("ORCH_UPDATE_GOLDEN")) == "1";
  std::vector<std::string> compared;
  for (const std::string& rel : Files(out)) {
    if (fs::path(rel).extension() == ".pdf") continue;  // binary; checked in figures_test
    if (rel == "report.html") continue;  // the page: html_test.cc and the browser test
    const std::string got = MaskRecordedTimes(Read(out / rel));
    const fs::path golden = kGoldenDir / rel;
    if (update) {
      fs::create_directories(golden.parent_path());
      ASSERT_TRUE(WriteFileAtomically(golden.string(), got).ok());
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden << " missing: run with ORCH_UPDATE_GOLDEN=1";
    EXPECT_EQ(got, Read(golden)) << "golden " << rel << " differs; if intended, rerun with "
                                 << "ORCH_UPDATE_GOLDEN=1 and review the diff";
    compared.push_back(rel);
  }
  if (!update) {
    for (const std::string& rel : Files(kGoldenDir)) {
      EXPECT_TRUE(fs::exists(out / rel)) << "golden " << rel << " is no longer produced";
    }
    EXPECT_GE(compared.size(), 6u);
  }
}

TEST_F(ReportDir, SameDatabaseGivesByteIdenticalOutput) {
  const fs::path a = Write("a"), b = Write("b");
  const std::vector<std::string> files = Files(a);
  ASSERT_EQ(files, Files(b));
  for (const char* want : {"report.md", "report.html", "tables.tex", "snippet.tex", "snippet.md",
                           "provenance.json", "figures/tpot-A.svg", "figures/tpot-A.pdf",
                           "figures/ppl-B.svg", "figures/ppl-B.pdf", "figures/figures.tex",
                           "figures/map-A.svg", "figures/map-A.pdf", "figures/map-B.svg",
                           "figures/map-B.pdf"}) {
    EXPECT_NE(std::find(files.begin(), files.end(), want), files.end()) << want;
  }
  for (const std::string& rel : files) EXPECT_EQ(Read(a / rel), Read(b / rel)) << rel;
}

TEST_F(ReportDir, EveryOutcomeClassAppearsWithItsExplanation) {
  const std::string md = Read(fs::path(Write("r")) / "report.md");
  for (const char* outcome :
       {"nan", "oom", "blocked", "crash", "timeout", "hung", "cuda_error", "error"}) {
    EXPECT_NE(md.find("outcome " + std::string(outcome)), std::string::npos) << outcome;
  }
  EXPECT_NE(md.find("in layer `gpt_neox.layers.2` at token 17"), std::string::npos);
  EXPECT_NE(md.find("`CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB total)`"),
            std::string::npos);
  EXPECT_NE(md.find("after 1 failed attempt (#1 hung"), std::string::npos);
  EXPECT_NE(md.find("exceeds the model's trained context"), std::string::npos);
  EXPECT_NE(md.find("Where the decode step spends its time"), std::string::npos);
  EXPECT_NE(md.find(": slower"), std::string::npos);
  EXPECT_NE(md.find(": faster"), std::string::npos);
  EXPECT_NE(md.find("no measurable difference"), std::string::npos);
  EXPECT_NE(md.find("Weight-only int8 did not pay off"), std::string::npos);
  // Debugging steps and failure maps, each line with its trial key.
  EXPECT_NE(md.find("## 3. Debugging steps"), std::string::npos);
  EXPECT_NE(md.find("attempt #1 (mode `eval`): first non-finite output in layer "
                    "`gpt_neox.layers.2`, at token 17"),
            std::string::npos);
  EXPECT_NE(md.find("2 attempts, final outcome `ok`; differed: outcome, exit code, signal, first "
                    "error line; the same: slot, run"),
            std::string::npos);
  EXPECT_NE(md.find("  - attempt #1: `hung`, exit code none, signal 9 (SIGKILL), slot `gpu:0`"),
            std::string::npos);
  EXPECT_NE(md.find("| `int4wo-g32` | **OOM** `"), std::string::npos);
  EXPECT_NE(md.find("![Failure map, study B: window x dtype](figures/map-B.svg)"),
            std::string::npos);
  EXPECT_EQ(md.find("map-P"), std::string::npos);  // one cell: no map
}

TEST_F(ReportDir, HostileStringsAreEscaped) {
  const fs::path out = Write("r");
  const std::string tex = Read(out / "tables.tex") + Read(out / "snippet.tex");
  // The raw hostile title never reaches LaTeX; its escaped form does.
  EXPECT_EQ(tex.find(testing::kHostile), std::string::npos);
  EXPECT_NE(tex.find("\\_ \\% \\& \\# \\$ \\{ \\} \\textasciitilde{} \\textasciicircum{} "
                     "\\textbackslash{} \\textbar{}"),
            std::string::npos);
  // Outside code spans (where markdown shows text literally) no markup survives.
  const std::string md = Read(out / "report.md");
  static const std::regex kCodeSpan("(`+)[^`](.*?[^`])?\\1(?!`)");
  const std::string prose = std::regex_replace(md, kCodeSpan, "CODE");
  EXPECT_EQ(prose.find("<b>bold</b>"), std::string::npos) << prose;
  EXPECT_NE(md.find("\\<b\\>bold\\</b\\>"), std::string::npos);
  EXPECT_NE(md.find("\\# not a heading"), std::string::npos);
  const std::string svg = Read(out / "figures/tpot-A.svg");
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
}

TEST_F(ReportDir, SeveralSweepsNeedAName) {
  {
    StatusOr<std::unique_ptr<store::Store>> rw = store::Store::Open(db_path_);
    ASSERT_TRUE(rw.ok());
    store::SweepDef other;
    other.name = "other";
    ASSERT_TRUE((*rw)->UpsertSweep(other).ok());
  }
  ReportOptions opts;
  opts.out_dir = (dir_ / "x").string();
  Status s = WriteReport(*db_, opts);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("quant-sweep, other"), std::string::npos) << s.message();
  opts.sweep_name = "quant-sweep";
  EXPECT_TRUE(WriteReport(*db_, opts).ok());
  opts.sweep_name = "nope";
  EXPECT_FALSE(WriteReport(*db_, opts).ok());
}

}  // namespace
}  // namespace orch::report
