// Compiles the generated LaTeX inside a minimal document with pdflatex and lints it with
// chktex. Skips with a message when either tool is missing (scripts/install-deps.sh
// installs them; CI has them).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "base/atomic_file.h"
#include "fixture_db.h"
#include "sweep_builder.h"
#include "report/latex_writer.h"
#include "report/report.h"
#include "store/store.h"

namespace orch::report {
namespace {

namespace fs = std::filesystem;

bool HaveTool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

int Shell(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes the report of the database `build` creates, compiles it and lints it.
void CompileAndLint(const std::string& name, const std::function<Status(const std::string&)>& build) {
  const fs::path dir =
      fs::temp_directory_path() / ("orch_report_latex_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db_path = (dir / "orch.db").string();
  ASSERT_TRUE(build(db_path).ok());
  {
    auto db = store::Store::Open(db_path, store::OpenMode::kReadOnly);
    ASSERT_TRUE(db.ok());
    ReportOptions opts;
    opts.out_dir = (dir / "out").string();
    Status s = WriteReport(**db, opts);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  const std::string doc = "\\documentclass{article}\n" + LatexPreambleRequirements() +
                          "\\begin{document}\n\\input{tables.tex}\n\\input{snippet.tex}\n"
                          "\\input{figures/figures.tex}\n\\end{document}\n";
  ASSERT_TRUE(WriteFileAtomically((dir / "out" / "paper.tex").string(), doc).ok());
  const std::string cd = "cd '" + (dir / "out").string() + "' && ";
  const int rc =
      Shell(cd + "pdflatex -interaction=nonstopmode -halt-on-error paper.tex > pdflatex.out 2>&1");
  EXPECT_EQ(rc, 0) << Slurp(dir / "out" / "pdflatex.out");
  EXPECT_TRUE(fs::exists(dir / "out" / "paper.pdf"));
  const std::string log = Slurp(dir / "out" / "paper.log");
  EXPECT_EQ(log.find("Missing character"), std::string::npos) << log;

  // chktex: -q quiet, -v0 one line per warning; exit status alone is not reliable, so
  // any output line counts as a finding.
  for (const char* file : {"tables.tex", "snippet.tex", "figures/figures.tex"}) {
    Shell(cd + "chktex -q -v0 '" + file + "' > chktex.out 2>&1");
    EXPECT_EQ(Slurp(dir / "out" / "chktex.out"), "") << file;
  }
  if (std::getenv("ORCH_KEEP_LATEX") == nullptr) fs::remove_all(dir);
}

TEST(Latex, TablesSnippetAndFiguresCompileWithPdflatexAndPassChktex) {
  if (!HaveTool("pdflatex") || !HaveTool("chktex")) {
    GTEST_SKIP() << "pdflatex or chktex not installed (scripts/install-deps.sh installs them)";
  }
  CompileAndLint("fixture", [](const std::string& path) { return testing::BuildFixtureDb(path); });
}

// A database at `path` holding sweep `name` of the cells `cells(ok, oom)` makes from an ok
// attempt and an out-of-memory one.
Status BuildOkOrOom(const std::string& path, const std::string& name,
                    const std::function<std::vector<testing::CellSpec>(
                        const testing::AttemptSpec& ok, const testing::AttemptSpec& oom)>& cells) {
  auto db = store::Store::Open(path);
  if (!db.ok()) return db.status();
  testing::AttemptSpec ok, oom;
  oom.outcome = "oom";
  oom.reason = "CUDA out of memory";
  return testing::BuildSweep(**db, name, cells(ok, oom));
}

TEST(Latex, StackComparisonAndFailureMapCompile) {
  if (!HaveTool("pdflatex") || !HaveTool("chktex")) {
    GTEST_SKIP() << "pdflatex or chktex not installed (scripts/install-deps.sh installs them)";
  }
  CompileAndLint("stacks", [](const std::string& path) {
    return BuildOkOrOom(path, "stacks_sweep", [](const auto& ok, const auto& oom) {
      std::vector<testing::CellSpec> cells;
      for (const char* worker : {"orch", "reference"}) {
        for (const char* window : {"64", "full"}) {
          const bool fails = std::string(worker) == "reference" && std::string(window) == "full";
          cells.push_back({"S",
                           testing::Config({{"worker", worker}, {"window", window}, {"quant", "int8wo"}}),
                           {fails ? oom : ok}});
        }
      }
      return cells;
    });
  });
}

// A study of more than kBigStudyCells cells: tables.tex lists its fastest and slowest
// cells and the collapsed failure map, the figures its ranked cells (issue 18).
TEST(Latex, BigStudySummaryCompiles) {
  if (!HaveTool("pdflatex") || !HaveTool("chktex")) {
    GTEST_SKIP() << "pdflatex or chktex not installed (scripts/install-deps.sh installs them)";
  }
  CompileAndLint("big", [](const std::string& path) {
    return BuildOkOrOom(path, "big_sweep", [](const auto& ok, const auto& oom) {
      std::vector<testing::CellSpec> cells;
      for (int i = 0; i < 250; ++i) {
        cells.push_back({"Big_study",
                         testing::Config({{"window", 64 << (i % 5)}, {"x_seed", i / 5}}),
                         {i % 5 == 4 ? oom : ok}});
      }
      return cells;
    });
  });
}

}  // namespace
}  // namespace orch::report
