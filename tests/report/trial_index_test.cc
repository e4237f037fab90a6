#include "report/trial_index.h"

#include <gtest/gtest.h>

namespace orch::report {
namespace {

ReportModel TwoStudies() {
  ReportModel m;
  auto study = [&](const std::string& id, std::vector<std::string> keys) {
    Study& s = m.studies.emplace_back();
    s.id = id;
    for (const std::string& k : keys) s.cells.emplace_back().key = k;
  };
  // "b" is in both studies (twice in B), "c" only in B; keys out of sorted order.
  study("A", {"d", "b"});
  study("B", {"c", "b", "d", "b"});
  return m;
}

TEST(TrialIndex, ListsEachTrialOnceAtItsFirstCellInReportOrder) {
  const ReportModel m = TwoStudies();
  const TrialIndex index(m);
  ASSERT_EQ(index.trials().size(), 3u);
  EXPECT_EQ(index.trials()[0], &m.studies[0].cells[0]);  // d
  EXPECT_EQ(index.trials()[1], &m.studies[0].cells[1]);  // b
  EXPECT_EQ(index.trials()[2], &m.studies[1].cells[0]);  // c
}

TEST(TrialIndex, GivesEachTrialItsStudiesInOrderOncePerCell) {
  const ReportModel m = TwoStudies();  // outlives the index, which points into it
  const TrialIndex index(m);
  EXPECT_EQ(index.StudiesOf(0), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(index.StudiesOf(1), (std::vector<std::string>{"A", "B", "B"}));
  EXPECT_EQ(index.StudiesOf(2), (std::vector<std::string>{"B"}));
}

TEST(TrialIndex, MapsEveryCellToItsTrial) {
  const ReportModel m = TwoStudies();
  const TrialIndex index(m);
  EXPECT_EQ(index.TrialOf(0, 0), 0u);
  EXPECT_EQ(index.TrialOf(0, 1), 1u);
  EXPECT_EQ(index.TrialOf(1, 0), 2u);
  EXPECT_EQ(index.TrialOf(1, 1), 1u);
  EXPECT_EQ(index.TrialOf(1, 2), 0u);
  EXPECT_EQ(index.TrialOf(1, 3), 1u);
}

TEST(TrialIndex, EmptyModelHasNoTrials) {
  ReportModel m;
  m.studies.emplace_back().id = "A";
  EXPECT_TRUE(TrialIndex(m).trials().empty());
}

}  // namespace
}  // namespace orch::report
