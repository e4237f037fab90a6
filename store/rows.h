// Rows: how the store turns result rows into records (the column lists and their
// readers) and the clock it stamps rows with. Internal to store/ (store.cc, store_reads.cc).
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "base/status.h"
#include "store/records.h"
#include "store/statement.h"

namespace orch::store {

inline std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms.count()));
  return out;
}

inline double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline Status Fail(const Statement& st, const std::string& what) { return st.status(what); }

inline TrialState ParseState(const std::string& s) {
  if (s == "running") return TrialState::kRunning;
  if (s == "done") return TrialState::kDone;
  return TrialState::kPending;
}

inline constexpr const char* kTrialColumns =
    "t.key, t.config_json, t.state, t.outcome, t.reason, t.attempts, t.final_attempt_id, "
    "t.replicates, (SELECT count(*) FROM attempts o WHERE o.trial_key = t.key AND "
    "o.finished = 1 AND o.outcome = 'ok')";
inline constexpr int kTrialColumnCount = 9;

inline TrialRecord ReadTrial(const Statement& st) {
  TrialRecord t;
  t.key = st.Text(0);
  t.config_json = st.Text(1);
  t.state = ParseState(st.Text(2));
  t.outcome = st.Text(3);
  t.reason = st.Text(4);
  t.attempts = static_cast<int>(st.Int(5));
  if (!st.IsNull(6)) t.final_attempt_id = st.Int(6);
  t.replicates = static_cast<int>(st.Int(7));
  t.ok_replicates = static_cast<int>(st.Int(8));
  return t;
}

inline constexpr const char* kAttemptColumns =
    "id, trial_key, number, run_id, host, pid, pid_start, slot, finished, outcome, reason, "
    "exit_code, signal, stderr_tail, attempt_dir, log_path, started_utc, finished_utc, "
    "duration_s, details_json, warnings_json, environment_json, worker_pid, worker_pid_start, "
    "replicate, job_id";

inline AttemptRecord ReadAttempt(const Statement& st) {
  AttemptRecord a;
  a.id = st.Int(0);
  a.trial_key = st.Text(1);
  a.number = static_cast<int>(st.Int(2));
  a.run_id = st.Int(3);
  a.owner = {st.Text(4), st.Int(5), st.Int(6)};
  a.slot = st.Text(7);
  a.finished = st.Int(8) != 0;
  a.outcome = st.Text(9);
  a.reason = st.Text(10);
  a.exit_code = st.OptInt(11);
  a.signal = st.OptInt(12);
  a.stderr_tail = st.Text(13);
  a.attempt_dir = st.Text(14);
  a.log_path = st.Text(15);
  a.started_utc = st.Text(16);
  a.finished_utc = st.Text(17);
  a.duration_s = st.Double(18);
  a.details_json = st.Text(19);
  a.warnings_json = st.Text(20);
  a.environment_json = st.Text(21);
  a.worker_pid = st.Int(22);
  a.worker_pid_start = st.Int(23);
  a.replicate = static_cast<int>(st.Int(24));
  a.job_id = st.Text(25);
  return a;
}

}  // namespace orch::store
