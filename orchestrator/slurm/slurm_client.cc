#include "orchestrator/slurm/slurm_client.h"

#include <pwd.h>
#include <unistd.h>

#include <exception>
#include <cstdlib>
#include <sstream>

#include "orchestrator/slurm/slurm_command.h"

namespace orch::slurm {
namespace {

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, '|')) f.push_back(cur);
  if (!line.empty() && line.back() == '|') f.emplace_back();
  return f;
}

std::string FirstWord(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  size_t e = s.find(' ', b);
  return s.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

std::string Join(const std::set<std::string>& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ",") + id;
  return s;
}

// "123_[0-3,7%2]" -> 123_0 .. 123_3, 123_7 (an array's tasks not yet split off); any
// other id as it is. At most 1,000,000 tasks per row.
std::vector<std::string> ExpandIds(const std::string& id) {
  size_t open = id.find("_[");
  if (open == std::string::npos || id.back() != ']') return {id};
  std::string base = id.substr(0, open);
  std::string inner = id.substr(open + 2, id.size() - open - 3);
  inner = inner.substr(0, inner.find('%'));
  std::vector<std::string> out;
  std::istringstream in(inner);
  std::string part;
  while (std::getline(in, part, ',')) {
    size_t dash = part.find('-');
    try {
      long a = std::stol(part.substr(0, dash));
      long b = dash == std::string::npos ? a : std::stol(part.substr(dash + 1));
      for (long i = a; i <= b && out.size() < 1000000; ++i) out.push_back(base + "_" + std::to_string(i));
    } catch (const std::exception&) {
      return {};
    }
  }
  return out;
}

template <typename F>
std::map<std::string, JobState> ParseLines(const std::string& out, F fill) {
  std::map<std::string, JobState> jobs;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto f = Fields(line);
    if (f.size() < 2 || f[0].empty()) continue;
    JobState st;
    fill(f, &st);
    if (st.state.empty()) continue;
    for (const auto& id : ExpandIds(f[0])) jobs[id] = st;
  }
  return jobs;
}

}  // namespace

bool IsFinalState(const std::string& s) {
  static const std::set<std::string> kLive = {"PENDING",  "RUNNING",    "REQUEUED",
                                              "RESIZING", "SUSPENDED",  "COMPLETING",
                                              "CONFIGURING", "REQUEUE_FED", "REQUEUE_HOLD",
                                              "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD"};
  return !s.empty() && !kLive.count(s);
}

const JobState* StateOf(const PollResult& p, const std::string& job_id) {
  auto it = p.jobs.find(job_id);
  if (it != p.jobs.end()) return &it->second;
  it = p.jobs.find(ArrayJobOf(job_id));
  if (it != p.jobs.end() && IsFinalState(it->second.state)) return &it->second;
  return nullptr;
}

std::string ArrayJobOf(const std::string& job_id) { return job_id.substr(0, job_id.find('_')); }

std::map<std::string, JobState> ParseSqueue(const std::string& out) {
  return ParseLines(out, [](const std::vector<std::string>& f, JobState* st) {
    st->state = FirstWord(f[1]);
    if (f.size() > 2) st->reason = f[2];
  });
}

std::map<std::string, JobState> ParseSacct(const std::string& out) {
  return ParseLines(out, [](const std::vector<std::string>& f, JobState* st) {
    st->state = FirstWord(f[1]);
    if (f.size() > 2) st->exit_code = f[2];
  });
}

StatusOr<std::string> SlurmClient::Submit(const std::vector<std::string>& args,
                                          const std::string& script, bool test_only) {
  std::vector<std::string> argv = {"sbatch"};
  if (test_only) argv.push_back("--test-only");
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(script);
  auto r = RunCommand(argv, kSubmitLimitS);
  if (!r.ok()) return r.status();
  if (!r->ok()) return Status::Error(r->ErrorText("sbatch"));
  if (test_only) return std::string();
  std::string id = FirstWord(r->out.substr(0, r->out.find_first_of(";\n")));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Error("sbatch answered '" + r->out + "' instead of a job id");
  }
  return id;
}

PollResult SlurmClient::Poll(const std::set<std::string>& array_jobs) {
  PollResult p;
  if (array_jobs.empty()) {
    p.complete = true;
    return p;
  }
  std::string ids = Join(array_jobs);
  bool queue_ok = false, acct_ok = false;
  auto q = RunCommand({"squeue", "-h", "-r", "-t", "all", "-j", ids, "-o", "%i|%T|%r"}, kQueryLimitS);
  if (q.ok() && q->ok()) {
    p.jobs = ParseSqueue(q->out);
    queue_ok = true;
  } else if (q.ok() && q->err.find("Invalid job id specified") != std::string::npos) {
    queue_ok = true;  // every id has left the queue (MinJobAge): only sacct knows them now
  } else {
    p.problem = q.ok() ? q->ErrorText("squeue") : q.status().message();
  }
  auto a = RunCommand({"sacct", "-n", "-X", "-P", "-j", ids, "-o", "JobID,State,ExitCode"}, kQueryLimitS);
  if (a.ok() && a->ok()) {
    for (auto& [id, st] : ParseSacct(a->out)) {
      auto it = p.jobs.find(id);
      // sacct lags the controller a little: a live state there never overrides squeue.
      if (it == p.jobs.end() || IsFinalState(st.state)) p.jobs[id] = st;
    }
    acct_ok = true;
  } else {
    p.problem += (p.problem.empty() ? "" : "; ") +
                 (a.ok() ? a->ErrorText("sacct") : a.status().message());
  }
  p.queue_answered = queue_ok;
  p.complete = queue_ok && acct_ok;
  return p;
}

Status SlurmClient::Cancel(const std::vector<std::string>& job_ids) {
  if (job_ids.empty()) return Status::Ok();
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), job_ids.begin(), job_ids.end());
  auto r = RunCommand(argv, kQueryLimitS);
  if (!r.ok()) return r.status();
  if (!r->ok()) return Status::Error(r->ErrorText("scancel"));
  return Status::Ok();
}

// The first id in `out` ("ID|NAME" lines) whose name is exactly `name`.
static std::string IdNamed(const std::string& out, const std::string& name) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    std::string n = line.substr(bar + 1);
    while (!n.empty() && (n.back() == ' ' || n.back() == '\r')) n.pop_back();
    if (n == name) return FirstWord(line.substr(0, bar));
  }
  return "";
}

StatusOr<std::string> SlurmClient::FindByName(const std::string& name) {
  // Only this user's jobs: another user's (or another database's) job of the same name
  // must never be adopted; the name is compared here, so a `,` (a list separator to
  // squeue -n) or SLURM's own matching rules cannot pick another job.
  std::vector<std::string> q_argv = {"squeue", "-h", "-t", "all", "-n", name, "-o", "%F|%j"};
  std::vector<std::string> a_argv = {"sacct", "-n", "-X", "-P", "-S", "now-30days",
                                     "--name", name, "-o", "JobID,JobName"};
  std::string user = SlurmUser();
  if (!user.empty()) {
    q_argv.insert(q_argv.begin() + 1, {"-u", user});
    a_argv.insert(a_argv.begin() + 1, {"-u", user});
  }
  auto q = RunCommand(q_argv, kQueryLimitS);
  if (!q.ok()) return q.status();
  if (!q->ok()) return Status::Error(q->ErrorText("squeue"));
  std::string id = IdNamed(q->out, name);
  if (!id.empty()) return id;
  auto a = RunCommand(a_argv, kQueryLimitS);
  if (!a.ok()) return a.status();
  if (!a->ok()) return Status::Error(a->ErrorText("sacct"));
  id = IdNamed(a->out, name);
  return id.empty() ? id : ArrayJobOf(id);
}

std::string SlurmUser() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* u = std::getenv("USER")) return u;
  return "";
}

}  // namespace orch::slurm
