// report.html: escaping helpers, the page of the fixture sweep (hostile strings stay
// data, the CSP hashes match the inline script and style, nothing is fetched), the
// snapshot of a sweep that is still running, and the size of a 10,000-trial page.
// The browser test (tests/report/html_browser_test.py) checks the page's behaviour.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>

#include "base/sha256.h"
#include "fixture_db.h"
#include "report/facts.h"
#include "report/html_data.h"
#include "report/html_text.h"
#include "report/html_writer.h"
#include "report/study_summary.h"
#include "report_test_util.h"
#include "sweep_builder.h"

namespace orch::report {
namespace {

TEST(HtmlText, EscapesMarkupAndControlCharacters) {
  EXPECT_EQ(HtmlEscape("</script><img src=x onerror=\"a('b')\">&"),
            "&lt;/script&gt;&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;");
  EXPECT_EQ(HtmlEscape(std::string("a\x01z\n\t", 5)), "a\xEF\xBF\xBDz\n\t");
}

TEST(HtmlText, JsonForScriptCannotCloseTheScriptElement) {
  const std::string json = R"({"r":"</script><!-- & \u2028)"
                           "\xE2\x80\xA8"
                           R"("})";
  const std::string safe = JsonForScript(json);
  EXPECT_EQ(safe.find('<'), std::string::npos);
  EXPECT_EQ(safe.find('>'), std::string::npos);
  EXPECT_EQ(safe.find('&'), std::string::npos);
  EXPECT_EQ(safe.find("\xE2\x80\xA8"), std::string::npos);
  // JSON reads it back unchanged.
  EXPECT_EQ(nlohmann::json::parse(safe), nlohmann::json::parse(json));
}

TEST(HtmlText, JsonForScriptRewritesExactlyTheFiveSequences) {
  // The byte-at-a-time definition: < > & U+2028 U+2029 rewritten, every other byte kept.
  auto reference = [](std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '<') {
        out += "\\u003c";
      } else if (in[i] == '>') {
        out += "\\u003e";
      } else if (in[i] == '&') {
        out += "\\u0026";
      } else if (in.substr(i, 3) == "\xE2\x80\xA8" || in.substr(i, 3) == "\xE2\x80\xA9") {
        out += in[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
        i += 2;
      } else {
        out += in[i];
      }
    }
    return out;
  };
  for (const std::string& in :
       {std::string(), std::string("plain"), std::string("<"), std::string("a<b>c&d"),
        std::string("<<>>&&"), std::string("\xE2"), std::string("x\xE2\x80"),
        std::string("\xE2\x80\xA8"), std::string("\xE2\x80\xA9tail"),
        std::string("\xE2\x80\xAA keeps U+202A"), std::string("\xE2\xE2\x80\xA8\xE2"),
        std::string("\xE2\x80\xA8\xE2\x80\xA9<"), std::string("caf\xC3\xA9 \xE2\x9C\x93 &")}) {
    EXPECT_EQ(JsonForScript(in), reference(in)) << in;
    std::string appended = "kept";
    AppendJsonForScript(in, appended);
    EXPECT_EQ(appended, "kept" + reference(in));
  }
}

TEST(HtmlText, CspHashIsBase64OfSha256) {
  // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
  EXPECT_EQ(CspHash("alert(1)"), "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
  EXPECT_EQ(CspHash(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
}

TEST(HtmlText, KeysBecomeLinksAndUserTextStaysText) {
  Prose p;
  p.Text("cell ").Key("0123456789ab").Text(": ").User("<img src=x onerror=alert(1)>").Code("a<b");
  EXPECT_EQ(RenderProseHtml(p),
            "cell <a class=\"key\" href=\"#trial=0123456789ab\" data-key=\"0123456789ab\">"
            "0123456789ab</a>: &lt;img src=x onerror=alert(1)&gt;<code>a&lt;b</code>");
}

class HtmlReport : public testing::TempDb {};

// The page's markup outside the embedded JSON and our own script.
std::string MarkupOnly(const std::string& page) {
  std::string out = page;
  for (const char* open : {"<script type=\"application/json\" id=\"orch-data\">", "<script>"}) {
    const size_t b = out.find(open);
    const size_t e = out.find("</script>", b);
    if (b == std::string::npos || e == std::string::npos) return "";
    out.erase(b, e + 9 - b);
  }
  return out;
}

TEST_F(HtmlReport, FixturePageIsSelfContainedAndEscaped) {
  ASSERT_TRUE(testing::BuildFixtureDb((dir_ / "f.db").string()).ok());
  auto db = Open("f.db");
  const ReportFiles files = Render(*db);
  ASSERT_TRUE(files.count("report.html"));
  const std::string& page = files.at("report.html");
  // One script element of ours plus the data, exactly what the CSP allows.
  const std::string script(HtmlPageScript()), style(HtmlPageStyle());
  EXPECT_NE(page.find("<script>" + script + "</script>"), std::string::npos);
  EXPECT_NE(page.find("<style>" + style + "</style>"), std::string::npos);
  EXPECT_NE(page.find("content=\"default-src 'none'; script-src " + CspHash(script) +
                      "; style-src " + CspHash(style) + ";"),
            std::string::npos);
  // Nothing is loaded from anywhere: no src/href to another document, no @import/url().
  EXPECT_FALSE(std::regex_search(page, std::regex("(src|href)=\"(https?:)?//")));
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  // The hostile string is in the markup only escaped, in the data only as JSON.
  const std::string markup = MarkupOnly(page);
  ASSERT_FALSE(markup.empty());
  EXPECT_EQ(markup.find("<b>bold</b>"), std::string::npos);
  EXPECT_NE(markup.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  const size_t b = page.find("id=\"orch-data\">") + 15;
  const std::string data = page.substr(b, page.find("</script>", b) - b);
  EXPECT_EQ(data.find('<'), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(data);
  EXPECT_EQ(j["sweep"], "quant-sweep");
  EXPECT_NE(data.find("\\u003cb\\u003ebold\\u003c/b\\u003e"), std::string::npos);
  // Every trial is there with every attempt.
  size_t attempts = 0;
  for (const auto& c : j["cells"]) attempts += c["a"].size();
  EXPECT_GT(attempts, j["cells"].size());  // one trial was retried
  EXPECT_EQ(j["snapshot"]["pending"], 0);
  EXPECT_EQ(j["snapshot"]["running"], 0);
}

TEST_F(HtmlReport, ARunningSweepShowsItsSnapshot) {
  // Four cells through the store's write API: a crash with a hostile reason, an ok, one
  // still running (claimed, not finished) and one pending.
  auto db = Open();
  store::SweepDef def;
  def.name = "live";
  def.studies.push_back({"S", "Study S", "", "{}", {}});
  for (int i = 0; i < 4; ++i) {
    const std::string config = testing::Config({{"window", 64 << i}}).dump();
    def.studies[0].cells.push_back({Sha256Hex(config), config, ""});
  }
  auto sweep = db->UpsertSweep(def);
  ASSERT_TRUE(sweep.ok());
  const store::Owner owner{"host", 7, 1, ""};
  auto run = db->BeginRun(*sweep, owner, "{}");
  ASSERT_TRUE(run.ok());
  auto claim = [&] {
    auto c = db->ClaimNext(*sweep, *run, owner, "cpu:0",
                           [](const std::string&, int) { return std::string("/x"); });
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? (*c)->attempt_id : 0;
  };
  store::AttemptResult crash;
  crash.attempt_id = claim();
  crash.outcome = "crash";
  crash.reason = "</script><img src=x onerror=alert(1)>";
  crash.stderr_tail = "Traceback ... <script>alert(2)</script>";
  crash.signal = 11;
  ASSERT_TRUE(db->FinishAttempt(crash).ok());
  store::AttemptResult ok;
  ok.attempt_id = claim();
  ok.outcome = "ok";
  ok.metrics = {{"ppl", 20}};
  ASSERT_TRUE(db->FinishAttempt(ok).ok());
  claim();  // running

  auto snap = LoadSnapshot(*db, "");
  ASSERT_TRUE(snap.ok());
  const SnapshotState st = SnapshotStateOf(*snap);
  EXPECT_EQ(st.total, 4);
  EXPECT_EQ(st.done, 2);
  EXPECT_EQ(st.failed, 1);
  EXPECT_EQ(st.running, 1);
  EXPECT_EQ(st.pending, 1);
  // The snapshot's time is the newest recorded: the running attempt's start.
  std::string newest;
  for (const auto& [k, list] : snap->attempts)
    for (const AttemptData& a : list)
      newest = std::max({newest, a.record.started_utc, a.record.finished_utc});
  EXPECT_EQ(st.time_utc, std::max(newest, snap->sweep.updated_utc));

  const ReportFiles files = Render(*db);
  const std::string& page = files.at("report.html");
  EXPECT_NE(page.find("<span class=\"n-running\">1 running</span>"), std::string::npos);
  EXPECT_NE(page.find("<span class=\"n-pending\">1 pending</span>"), std::string::npos);
  EXPECT_NE(page.find("<time>" + st.time_utc + "</time>"), std::string::npos);
  EXPECT_NE(page.find("The sweep is not finished"), std::string::npos);
  EXPECT_EQ(MarkupOnly(page).find("<img"), std::string::npos);
  EXPECT_EQ(MarkupOnly(page).find("<script>alert(2)"), std::string::npos);  // log tail: text
  // Same database, same bytes (no clock).
  EXPECT_EQ(Render(*db).at("report.html"), page);
}

TEST(HtmlReportProvenance, WorkerEnvironmentsListEachTrialOnceWithTheirCounts) {
  // Study A: k1 and k4 with environment e1, k2 with e2, k3 with none recorded ("{}");
  // study B repeats k1 (one trial, counted once) and adds k5 with a text that is not JSON.
  const std::string e1 = R"({"device_name":"cpu","torch":"2.5.1"})",
                    e2 = R"({"device_name":"gpu"})";
  ReportModel m;
  m.sweep.name = "envs";
  auto study = [&](const std::string& id, std::vector<std::pair<std::string, std::string>> cells) {
    Study& s = m.studies.emplace_back();
    s.id = id;
    for (const auto& [key, env] : cells) {
      Cell& c = s.cells.emplace_back();
      c.key = key + std::string(60, '0');
      c.short_key = c.key.substr(0, 12);
      c.outcome = "ok";
      c.worker_environment_json = env;
      s.comparisons.emplace_back();
      s.observations.emplace_back();
    }
  };
  study("A", {{"k001", e1}, {"k002", e2}, {"k003", "{}"}, {"k004", e1}});
  study("B", {{"k001", e1}, {"k005", "<not json>"}});
  SweepSnapshot snap;
  HtmlInputs in{&m, &snap, {"", ""}, {"", ""}, {std::nullopt, std::nullopt}, nullptr, {}};
  const std::string page = RenderHtmlReport(in);
  const size_t first = page.find("Worker environment of 2 trials (first k00100000000)");
  const size_t second = page.find("Worker environment of 1 trial (first k00200000000)");
  const size_t third = page.find("Worker environment of 1 trial (first k00500000000)");
  EXPECT_NE(first, std::string::npos) << page.substr(page.find("<section id=\"provenance\">"));
  EXPECT_NE(second, std::string::npos);
  EXPECT_NE(third, std::string::npos);
  EXPECT_LT(first, second);  // in the order the trials first show them
  EXPECT_LT(second, third);
  EXPECT_EQ(page.find("k00300000000)"), std::string::npos);  // nothing recorded: no entry
  EXPECT_NE(page.find("<pre>&lt;not json&gt;</pre>"), std::string::npos);           // shown as text
  EXPECT_NE(page.find("&quot;torch&quot;: &quot;2.5.1&quot;"), std::string::npos);  // indented
}

// 10,000 trials in one study: report.md is a summary under 1 MB, report.html a few MB.
// The snapshot is built in memory (RenderReport is pure): 10,000 claims through the store
// take minutes on a shared machine; html_sweep_builder does that for the browser test.
// `n` trials in one study G (window 1024 runs out of memory), built in memory.
SweepSnapshot BigSnapshot(int n) {
  SweepSnapshot snap;
  snap.sweep.id = 1;
  snap.sweep.name = "big";
  snap.sweep.updated_utc = "2026-12-04T10:00:00";
  snap.studies.push_back({1, "G", "Big", "", "{}", 0, true});
  for (int i = 0; i < n; ++i) {
    store::TrialRecord t;
    t.config_json = testing::Config({{"window", 64 << (i % 5)}, {"x_seed", i / 5}}).dump();
    t.key = Sha256Hex(t.config_json);
    t.state = store::TrialState::kDone;
    t.outcome = i % 5 == 4 ? "oom" : "ok";  // window 1024 runs out of memory
    t.reason = i % 5 == 4 ? "CUDA out of memory" : "";
    t.attempts = 1;
    t.ok_replicates = t.outcome == "ok";
    t.final_attempt_id = i + 1;
    t.study_id = "G";
    t.position = i;
    AttemptData a;
    a.record.id = i + 1;
    a.record.trial_key = t.key;
    a.record.number = 1;
    a.record.run_id = 1;
    a.record.finished = true;
    a.record.outcome = t.outcome;
    a.record.reason = t.reason;
    a.record.exit_code = t.outcome == "ok" ? 0 : 1;
    a.record.started_utc = "2026-12-04T09:00:00";
    if (t.outcome == "ok") {
      a.metrics = {{"ppl", 20 + i % 3}};
      std::vector<store::Sample> samples;
      for (int k = 0; k < 8; ++k) samples.push_back({0, k, 10.0 + i % 5 + 0.01 * k, 3.0, false});
      a.latencies = LatencyRepeats(samples);
    }
    snap.attempts[t.key].push_back(a);
    snap.trials.push_back(t);
  }
  return snap;
}

TEST(HtmlReportBig, TenThousandTrialsStayCompact) {
  const SweepSnapshot snap = BigSnapshot(10000);
  ReportOptions opts;
  StatusOr<ReportFiles> rendered = RenderReport(snap, opts);
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  const ReportFiles& files = *rendered;
  const std::string& md = files.at("report.md");
  const std::string& page = files.at("report.html");
  EXPECT_LT(md.size(), 1u << 20) << md.size();
  EXPECT_LT(page.size(), 8u << 20) << page.size();
  EXPECT_NE(md.find("more than the 200"), std::string::npos);
  EXPECT_NE(md.find("**Failure map collapsed to `window`**"), std::string::npos)
      << md.substr(0, 6000);
  EXPECT_NE(md.find("report.html"), std::string::npos);
  const size_t b = page.find("id=\"orch-data\">") + 15;
  const nlohmann::json j = nlohmann::json::parse(page.substr(b, page.find("</script>", b) - b));
  EXPECT_EQ(j["cells"].size(), 10000u);
  EXPECT_EQ(j["studies"][0]["rows"].size(), 10000u);

  // The other outputs summarise the study too (issue 18): tables.tex lists the baseline
  // and the fastest and slowest cells and the collapsed failure map, the figures plot
  // the ranked cells, provenance.json holds every trial, one per line.
  const std::string& tex = files.at("tables.tex");
  EXPECT_LT(tex.size(), 64u << 10) << tex.size();
  EXPECT_NE(tex.find("the table lists the baseline and the 5 fastest and 5 slowest"),
            std::string::npos) << tex;
  EXPECT_NE(tex.find("failures of its 10000 cells by \\texttt{window}"), std::string::npos)
      << tex;
  for (const char* fig : {"figures/tpot-G.svg", "figures/ppl-G.svg", "figures/tpot-G.pdf",
                          "figures/ppl-G.pdf"}) {
    EXPECT_LT(files.at(fig).size(), 64u << 10) << fig << " " << files.at(fig).size();
  }
  const std::string& tpot = files.at("figures/tpot-G.svg");
  EXPECT_NE(tpot.find("the 10 fastest and 10 slowest of 10000 cells"), std::string::npos);
  // Ties are ranked in spec order: the first fastest cell is the first cell.
  EXPECT_NE(tpot.find(snap.trials[0].key.substr(0, 12)), std::string::npos);
  EXPECT_NE(page.find("TPOT of the 10 fastest and 10 slowest cells"), std::string::npos);
  const std::string& prov = files.at("provenance.json");
  EXPECT_EQ(nlohmann::json::parse(prov)["trials"].size(), 10000u);
  EXPECT_LT(std::count(prov.begin(), prov.end(), '\n'), 10100) << "one line per trial";
}

// A big study's conclusions name every cell; the model keeps only what report.md and
// report.html show of them and one span more (issue 18: ~90 MB at 100,000 cells), and
// both still say where they cut.
TEST(HtmlReportBig, ConclusionsKeepWhatTheReportShows) {
  const SweepSnapshot snap = BigSnapshot(1000);
  StatusOr<ReportModel> model = BuildModel(snap, FactsOptions{});
  ASSERT_TRUE(model.ok()) << model.status().message();
  size_t cut = 0;
  for (const Prose& p : model->conclusions) {
    EXPECT_LE(p.spans().size(), kKeptConclusionSpans);
    cut += p.spans().size() == kKeptConclusionSpans;
  }
  EXPECT_GT(cut, 1u);  // the 800 ok cells and the 200 failed ones: lists that were cut
  StatusOr<ReportFiles> rendered = RenderReport(snap, ReportOptions{});
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  EXPECT_NE(rendered->at("report.md").find("(cut here: the full list is in `report.html`)"),
            std::string::npos);
  EXPECT_NE(rendered->at("report.html").find("(cut here: every trial is in the tables above)"),
            std::string::npos);
}

// RenderReportTo renders on two threads (report.h): the files handed whole to the sink
// and those streamed in pieces are the same bytes, for a sweep with a big study (one-line
// provenance, summaries) and one without (indented provenance, every observation).
TEST(ReportStreams, PiecesAndWholeFilesAreTheSameBytes) {
  for (int n : {50, 1000}) {
    const SweepSnapshot snap = BigSnapshot(n);
    StatusOr<ReportFiles> whole = RenderReport(snap, ReportOptions{});
    ASSERT_TRUE(whole.ok()) << whole.status().message();
    ReportFiles files;
    std::map<std::string, bool> finished;
    std::mutex mu;
    Status s = RenderReportTo(
        snap, ReportOptions{},
        [&](const std::string& path, std::string content) {
          std::lock_guard<std::mutex> lock(mu);
          EXPECT_FALSE(files.count(path)) << path;
          files[path] = std::move(content);
          return Status::Ok();
        },
        [&](const std::string& path, std::string_view piece, bool last) {
          std::lock_guard<std::mutex> lock(mu);
          EXPECT_FALSE(finished[path]) << path;
          files[path].append(piece);
          finished[path] = last;
          return Status::Ok();
        });
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(finished["provenance.json"] && finished["report.html"]);
    ASSERT_EQ(files.size(), whole->size());
    for (const auto& [path, text] : *whole) {
      EXPECT_TRUE(files.at(path) == text) << n << " " << path;
    }
    // And again: two threads, the same bytes every time.
    StatusOr<ReportFiles> again = RenderReport(snap, ReportOptions{});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(*again == *whole) << n;
  }
}

// Whichever thread meets its error first, the one returned is the first in the files'
// fixed order (figures, figures.tex, snippets, tables.tex, provenance.json, report.md,
// report.html).
TEST(ReportStreams, FirstErrorInFileOrderWhicheverStreamMetIt) {
  const SweepSnapshot snap = BigSnapshot(50);
  for (const auto& [failing, expected] : std::vector<std::pair<std::set<std::string>, std::string>>{
           {{"report.md", "report.html"}, "report.md"},
           {{"provenance.json", "report.md"}, "provenance.json"},
           {{"report.html", "tables.tex"}, "tables.tex"},
           {{"provenance.json", "figures/tpot-G.svg"}, "figures/tpot-G.svg"}}) {
    auto fail = [&](const std::string& path) {
      return failing.count(path) ? Status::Error("cannot write " + path) : Status::Ok();
    };
    Status s = RenderReportTo(
        snap, ReportOptions{}, [&](const std::string& path, std::string) { return fail(path); },
        [&](const std::string& path, std::string_view, bool) { return fail(path); });
    EXPECT_EQ(s.message(), "cannot write " + expected);
  }
}

// BuildModel summarises each big study once, for the three writers that show it
// (SummaryOf); a small study has no summary.
TEST(StudySummaryOnce, BuildModelSummarisesEachBigStudyAndNoOther) {
  StatusOr<ReportModel> model = BuildModel(BigSnapshot(1000), FactsOptions{});
  ASSERT_TRUE(model.ok()) << model.status().message();
  size_t big = 0;
  for (const Study& s : model->studies) {
    if (!IsBigStudy(s)) {
      EXPECT_FALSE(s.summary) << s.id;
      continue;
    }
    ++big;
    ASSERT_TRUE(s.summary) << s.id;
    EXPECT_EQ(SummaryOf(s).get(), s.summary.get());
    const StudySummary fresh = SummarizeStudy(s);
    EXPECT_EQ(s.summary->ok, fresh.ok);
    EXPECT_EQ(s.summary->failed, fresh.failed);
    EXPECT_EQ(s.summary->failures, fresh.failures);
    EXPECT_EQ(s.summary->marginals.size(), fresh.marginals.size());
    EXPECT_EQ(s.summary->map.axes, fresh.map.axes);
  }
  EXPECT_GT(big, 0u);
}

// An exception thrown on the second thread (here by the sink, for files of stream B:
// provenance.json, then report.md) is rethrown to the caller after the join; it used to
// escape the std::thread and std::terminate the process (the test binary died).
TEST(ReportStreams, ExceptionOnTheSecondStreamReachesTheCaller) {
  const SweepSnapshot snap = BigSnapshot(50);
  for (const std::string& throwing : {"provenance.json", "report.md"}) {
    auto sink = [&](const std::string& path, std::string) {
      if (path == throwing) throw std::runtime_error("sink threw for " + path);
      return Status::Ok();
    };
    try {
      Status s = RenderReportTo(snap, ReportOptions{}, sink);
      ADD_FAILURE() << "no exception for " << throwing << ": " << s.message();
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "sink threw for " + throwing);
    }
  }
}

}  // namespace
}  // namespace orch::report
