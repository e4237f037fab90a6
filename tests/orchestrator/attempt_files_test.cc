// Attempt files (orchestrator/attempt/attempt_files.h): one reader for every file a worker or a
// SLURM task leaves in an attempt directory. A FIFO, a symlink (to /dev/zero or
// anywhere), a directory or a device is refused at once, never read, never waited on; a
// regular file is read only as far as asked, into a buffer its own size (issue 17 F7,
// issue 18).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "orchestrator/attempt/attempt_files.h"
#include "orchestrator/attempt/classify.h"

namespace orch {
namespace {

class AttemptFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/attempt_files_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_F(AttemptFiles, EveryNameIsInTheAttemptDirectory) {
  EXPECT_EQ(TrialFilePath("/r/a"), "/r/a/trial.json");
  EXPECT_EQ(EventsFilePath("/r/a"), "/r/a/events.jsonl");
  EXPECT_EQ(ResultFilePath("/r/a"), "/r/a/result.json");
  EXPECT_EQ(WorkerLogPath("/r/a"), "/r/a/worker.log");
  EXPECT_EQ(ExitStatusFilePath("/r/a"), "/r/a/exit_status");
  EXPECT_EQ(StartedFilePath("/r/a"), "/r/a/slurm_started");
  EXPECT_EQ(AbandonedFilePath("/r/a"), "/r/a/abandoned");
  EXPECT_EQ(OrchKillFilePath("/r/a"), "/r/a/orch_kill");
}

// Issue 18: the buffer is the file's size, not the 64 MiB cap (zero-filling the cap for
// every result was most of orch's per-trial cost).
TEST_F(AttemptFiles, ASmallResultIsReadIntoASmallBuffer) {
  std::string path = Write("result.json", R"({"protocol": 1, "outcome": "ok"})");
  auto text = ReadResultFile(path);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, R"({"protocol": 1, "outcome": "ok"})");
  EXPECT_LT(text->capacity(), size_t{1} << 16);
}

TEST_F(AttemptFiles, ReadsAreBounded) {
  std::string path = Write("events.jsonl", std::string(100000, 'e') + "\nlast line\n");
  auto head = ReadAttemptFile(path, 10);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(*head, std::string(10, 'e'));
  bool cut = false;
  auto tail = ReadAttemptFileTail(path, 10, &cut);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(*tail, "last line\n");
  EXPECT_TRUE(cut);
  EXPECT_EQ(ReadTail(path, 1), "last line\n");
}

TEST_F(AttemptFiles, AFifoIsRefusedAtOnce) {
  std::string path = dir_ + "/worker.log";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ReadAttemptFile(path, 1000).has_value());
  EXPECT_FALSE(ReadAttemptFileTail(path, 1000).has_value());
  EXPECT_EQ(ReadTail(path, 20), "");
  EXPECT_FALSE(ReadResultFile(path).has_value());
  // Not a wait that happened to end: nothing writes to the FIFO.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // A marker orch writes over it neither blocks nor writes into the FIFO.
  EXPECT_TRUE(WriteAttemptMarker(path, "hung\n").ok());
  EXPECT_EQ(ReadAttemptFile(path, 100).value_or("?"), "hung\n");
}

TEST_F(AttemptFiles, SymlinksDirectoriesAndDevicesAreRefused) {
  std::string zero = dir_ + "/worker.log";
  ASSERT_EQ(::symlink("/dev/zero", zero.c_str()), 0);
  EXPECT_FALSE(ReadAttemptFile(zero, size_t{1} << 30).has_value());
  EXPECT_EQ(ReadTail(zero, 20), "");
  std::string regular = Write("real.json", "{}");
  std::string link = dir_ + "/result.json";
  ASSERT_EQ(::symlink(regular.c_str(), link.c_str()), 0);
  EXPECT_FALSE(ReadResultFile(link).has_value());  // a link is not the worker's file
  EXPECT_FALSE(ReadAttemptFile(dir_, 100).has_value());
  EXPECT_FALSE(ReadAttemptFile("/dev/zero", 100).has_value());
  EXPECT_FALSE(ReadAttemptFile(dir_ + "/absent", 100).has_value());
  EXPECT_TRUE(AttemptFileExists(zero));
  EXPECT_FALSE(AttemptFileExists(dir_ + "/absent"));
}

TEST_F(AttemptFiles, AMarkerReplacesASymlinkInsteadOfFollowingIt) {
  std::string target = Write("target", "keep");
  std::string path = dir_ + "/abandoned";
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
  EXPECT_TRUE(WriteAttemptMarker(path, "orch gave this attempt up\n").ok());
  EXPECT_EQ(ReadAttemptFile(target, 100).value_or("?"), "keep");
  EXPECT_EQ(ReadAttemptFile(path, 100).value_or("?"), "orch gave this attempt up\n");
}

}  // namespace
}  // namespace orch
