// WorkerEvents: event lines from a worker, whatever it writes.
#include "orchestrator/attempt/worker_events.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

TEST(WorkerEvents, WrongTypesAreIgnoredNotThrown) {
  WorkerEvents ev;
  auto lines = ev.Feed(
      "{\"event\":\"heartbeat\",\"token\":\"7\",\"total\":1.5}\n"
      "{\"event\":\"phase\",\"name\":3}\n"
      "{\"event\":\"warning\",\"message\":[1]}\n"
      "{\"event\":7}\n"
      "not json at all\n"
      "{\"event\":\"heartbeat\",\"token\":NaN}\n"
      "{\"event\":\"phase\",\"name\":\"caf\xe9\"}\n"  // invalid UTF-8: not JSON
      "{\"event\":\"failure\",\"outcome\":5,\"message\":{}}\n");
  EXPECT_EQ(lines.size(), 8u);
  EXPECT_EQ(ev.token(), -1);
  EXPECT_EQ(ev.total(), -1);
  EXPECT_EQ(ev.phase(), "");
  EXPECT_TRUE(ev.warnings().empty());
  EXPECT_EQ(ev.malformed(), 4);
  ASSERT_TRUE(ev.failure().has_value());  // kept; Classify type-checks it
}

TEST(WorkerEvents, PartialLineIsCappedAndDropped) {
  WorkerEvents ev;
  std::string chunk(64 * 1024, 'x');
  for (size_t sent = 0; sent <= WorkerEvents::kMaxLineBytes; sent += chunk.size()) {
    EXPECT_TRUE(ev.Feed(chunk).empty());
  }
  EXPECT_EQ(ev.oversized(), 1);
  // The rest of the oversized line is skipped up to its newline; the next line counts.
  auto lines = ev.Feed("more of it\n{\"event\":\"phase\",\"name\":\"decode\"}\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(ev.phase(), "decode");
  ASSERT_EQ(ev.warnings().size(), 1u);
  EXPECT_NE(ev.warnings()[0].find("longer than 1 MiB"), std::string::npos);
}

TEST(WorkerEvents, LinesSplitAcrossReadsAreJoined) {
  WorkerEvents ev;
  EXPECT_TRUE(ev.Feed("{\"event\":\"phase\",").empty());
  auto lines = ev.Feed("\"name\":\"warmup\"}\n{\"event\"");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(ev.phase(), "warmup");
  lines = ev.Feed(":\"heartbeat\",\"token\":4}\n");
  EXPECT_EQ(ev.token(), 4);
}

TEST(WorkerEvents, WarningsAreDistinctAndBounded) {
  WorkerEvents ev;
  std::string many;
  for (int i = 0; i < 1000; ++i) {
    many += "{\"event\":\"warning\",\"message\":\"w" + std::to_string(i % 300) + "\"}\n";
  }
  ev.Feed(many);
  ASSERT_EQ(ev.warnings().size(), WorkerEvents::kMaxWarnings);
  EXPECT_EQ(ev.warnings()[0], "w0");
  EXPECT_EQ(ev.warnings()[1], "w1");
}

}  // namespace
}  // namespace orch
