// Shared by the report tests that build a database: a temporary directory per test, a
// store opened on it, and the report rendered in memory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "report/report.h"
#include "report/snapshot.h"
#include "store/store.h"

namespace orch::report::testing {

class TempDb : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("orch_rt_") + info->test_suite_name() + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<store::Store> Open(const std::string& name = "orch.db") {
    auto db = store::Store::Open((dir_ / name).string());
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(*db) : nullptr;
  }

  static ReportFiles Render(const store::Store& db, const ReportOptions& opts = {}) {
    StatusOr<SweepSnapshot> snap = LoadSnapshot(db, opts.sweep_name);
    EXPECT_TRUE(snap.ok()) << snap.status().message();
    if (!snap.ok()) return {};
    StatusOr<ReportFiles> files = RenderReport(*snap, opts);
    EXPECT_TRUE(files.ok()) << files.status().message();
    return files.ok() ? *files : ReportFiles{};
  }

  std::filesystem::path dir_;
};

}  // namespace orch::report::testing
