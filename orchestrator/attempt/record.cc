#include "orchestrator/attempt/record.h"

#include "orchestrator/attempt/retry_policy.h"

namespace orch {

AttemptVerdict AttemptVerdict::Interrupted(std::string reason) {
  AttemptVerdict v;
  v.interrupt = true;
  v.interrupt_reason = std::move(reason);
  return v;
}

AttemptVerdict AttemptVerdict::Observed(const AttemptObservation& obs) {
  AttemptVerdict v;
  v.result = Classify(obs);
  v.killed_for = obs.killed_for;
  return v;
}

StatusOr<Recorded> RecordVerdict(store::Store& db, const AttemptRef& attempt,
                                 const AttemptVerdict& verdict) {
  Recorded rec;
  if (verdict.interrupt) {
    rec.result.attempt_id = attempt.attempt_id;
    rec.result.outcome = "interrupted";
    rec.result.reason = verdict.interrupt_reason;
    if (Status s = db.InterruptAttempt(attempt.attempt_id, verdict.interrupt_reason,
                                       &rec.superseded);
        !s.ok()) {
      return s;
    }
    return rec;
  }
  rec.result = verdict.result;
  rec.result.attempt_id = attempt.attempt_id;
  rec.result.terminal =
      IsTerminal(rec.result, verdict.killed_for, attempt.try_number, attempt.config_json);
  if (Status s = db.FinishAttempt(rec.result, &rec.superseded); !s.ok()) return s;
  return rec;
}

}  // namespace orch
