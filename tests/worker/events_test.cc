#include "worker/app/events.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace orch::worker {
namespace {

std::vector<nlohmann::json> ReadLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(EventSink, WritesOneJsonObjectPerLineWithTime) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("events_" + std::to_string(::getpid()) + ".jsonl"))
                         .string();
  std::filesystem::remove(path);
  {
    EventSink sink(path);
    ASSERT_TRUE(sink.ok()) << sink.error();
    sink.Started(42, 1);
    sink.Phase("decode");
    sink.Warning("w");
    sink.Failure("blocked", "why");
  }
  auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["event"], "started");
  EXPECT_EQ(lines[0]["pid"], 42);
  EXPECT_EQ(lines[1]["name"], "decode");
  EXPECT_EQ(lines[3]["outcome"], "blocked");
  for (const auto& l : lines) EXPECT_GT(l["t"].get<double>(), 1.6e9);
  std::filesystem::remove(path);
}

TEST(HeartbeatTicker, BeatsWithLatestProgressWhileAlive) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("beats_" + std::to_string(::getpid()) + ".jsonl"))
                         .string();
  std::filesystem::remove(path);
  {
    EventSink sink(path);
    HeartbeatTicker ticker(&sink, 50);
    ticker.set_progress(7, 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(220));
  }
  auto lines = ReadLines(path);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back()["event"], "heartbeat");
  EXPECT_EQ(lines.back()["token"], 7);
  EXPECT_EQ(lines.back()["total"], 10);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace orch::worker
