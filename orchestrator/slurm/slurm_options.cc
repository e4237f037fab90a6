#include "orchestrator/slurm/slurm_options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

#include "orchestrator/plan/config_schema.h"

namespace orch::slurm {
namespace {

bool PositiveInt(const std::string& v, int max, int* out) {
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  long n = std::stol(v);
  if (n < 1 || n > max) return false;
  *out = static_cast<int>(n);
  return true;
}

// SLURM's time formats: "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S".
bool SlurmTime(const std::string& v) {
  static const std::regex kTime(R"(^(\d+-)?\d+(:\d+){0,2}$)");
  return std::regex_match(v, kTime) && v != "0";
}

// A plain value passed to sbatch as one argument: printable, no spaces.
bool Word(const std::string& v) {
  if (v.empty()) return false;
  for (unsigned char c : v) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

const std::vector<std::string>& SlurmKeys() {
  static const std::vector<std::string> kKeys = {
      "partition", "gpus",         "gres",        "cpus_per_task",   "mem",
      "time",      "account",      "qos",         "constraint",      "sbatch_args",
      "array_throttle", "trials_per_task", "max_array_size", "poll_interval", "time_margin"};
  return kKeys;
}

std::string ApplySlurmOption(const std::string& key, const std::string& v, SlurmOptions* o) {
  if (key == "partition" || key == "account" || key == "qos" || key == "constraint" ||
      key == "gres") {
    if (!Word(v)) return "must be one word without spaces, not '" + v + "'";
    (key == "partition" ? o->partition
     : key == "account" ? o->account
     : key == "qos"     ? o->qos
     : key == "gres"    ? o->gres
                        : o->constraint) = v;
  } else if (key == "gpus") {
    if (!PositiveInt(v, 1024, &o->gpus)) return "must be a whole number from 1 to 1024, not '" + v + "'";
  } else if (key == "cpus_per_task") {
    if (!PositiveInt(v, 100000, &o->cpus_per_task)) return "must be a whole number >= 1, not '" + v + "'";
  } else if (key == "array_throttle") {
    if (!PositiveInt(v, 1000000, &o->array_throttle)) return "must be a whole number >= 1 (tasks of an array at once), not '" + v + "'";
  } else if (key == "trials_per_task") {
    if (!PositiveInt(v, 100000, &o->trials_per_task)) return "must be a whole number >= 1, not '" + v + "'";
  } else if (key == "max_array_size") {
    if (!PositiveInt(v, 4000000, &o->max_array_size)) return "must be a whole number >= 1 (SLURM's MaxArraySize - 1 at most), not '" + v + "'";
  } else if (key == "mem") {
    static const std::regex kMem(R"(^\d+[KMGT]?$)");
    if (!std::regex_match(v, kMem) || v[0] == '0') return "must be a size such as 4000, 500M or 16G, not '" + v + "'";
    o->mem = v;
  } else if (key == "time") {
    if (!SlurmTime(v)) return "must be a SLURM time (minutes, MM:SS, HH:MM:SS or D-HH:MM:SS), not '" + v + "'";
    o->time = v;
  } else if (key == "poll_interval" || key == "time_margin") {
    double s = 0;
    std::string why = ParseDuration(v, &s);
    if (!why.empty()) return "must be a duration such as 30, 30s or 2m (" + why + "), not '" + v + "'";
    (key == "poll_interval" ? o->poll_s : o->time_margin_s) = s;
  } else if (key == "sbatch_args") {
    if (v.empty()) return "an sbatch argument must not be empty";
    o->sbatch_args.push_back(v);
  } else {
    std::string known;
    for (const auto& k : SlurmKeys()) known += (known.empty() ? "" : ", ") + k;
    return "unknown key (known: " + known + ")";
  }
  return "";
}

std::vector<SpecError> ApplySlurmBlock(const Spec& spec, SlurmOptions* opts) {
  std::vector<SpecError> errors;
  for (const auto& [key, sv] : spec.slurm.entries) {
    std::string where = "slurm." + key;
    if (sv.value.is_array()) {
      if (key != "sbatch_args") {
        errors.push_back({spec.path, sv.pos, where, "must be a scalar, not a list"});
        continue;
      }
      for (const auto& item : sv.value) {
        std::string why = ApplySlurmOption(key, item.get<std::string>(), opts);
        if (!why.empty()) errors.push_back({spec.path, sv.pos, where, why});
      }
      continue;
    }
    if (key == "sbatch_args") {
      errors.push_back({spec.path, sv.pos, where, "must be a list of arguments, e.g. [--exclusive]"});
      continue;
    }
    std::string why = ApplySlurmOption(key, sv.value.get<std::string>(), opts);
    if (!why.empty()) errors.push_back({spec.path, sv.pos, where, why});
  }
  return errors;
}

std::string TaskTimeLimit(const SlurmOptions& opts, const std::vector<double>& timeouts_s) {
  if (!opts.time.empty()) return opts.time;
  double total = opts.time_margin_s;
  for (double t : timeouts_s) total += t;
  long long minutes = std::max<long long>(1, static_cast<long long>(std::ceil(total / 60)));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lld-%02lld:%02lld:00", minutes / 1440, minutes % 1440 / 60,
                minutes % 60);
  return buf;
}

std::vector<std::string> SbatchArgs(const SlurmOptions& o, int tasks, const std::string& job_name,
                                    const std::string& output, const std::string& time_limit) {
  std::string array = "--array=0-" + std::to_string(tasks - 1);
  if (o.array_throttle > 0) array += "%" + std::to_string(o.array_throttle);
  std::vector<std::string> a = {"--parsable", "--no-requeue", array, "--job-name=" + job_name,
                                "--output=" + output, "--time=" + time_limit};
  if (!o.partition.empty()) a.push_back("--partition=" + o.partition);
  if (!o.gres.empty()) a.push_back("--gres=" + o.gres);
  else if (o.gpus > 0) a.push_back("--gres=gpu:" + std::to_string(o.gpus));
  if (o.cpus_per_task > 0) a.push_back("--cpus-per-task=" + std::to_string(o.cpus_per_task));
  if (!o.mem.empty()) a.push_back("--mem=" + o.mem);
  if (!o.account.empty()) a.push_back("--account=" + o.account);
  if (!o.qos.empty()) a.push_back("--qos=" + o.qos);
  if (!o.constraint.empty()) a.push_back("--constraint=" + o.constraint);
  a.insert(a.end(), o.sbatch_args.begin(), o.sbatch_args.end());
  return a;
}

}  // namespace orch::slurm
