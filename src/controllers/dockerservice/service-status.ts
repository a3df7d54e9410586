// A DockerService's status from one reconcile's findings. Pure.
//
//   phase         Ready                          also
//   ------------  -----------------------------  ------------------------------------------
//   Progressing   Unknown  RollingUpdate         Reconciling=True, Progressing=True
//   CanaryPaused  False    CanaryPaused          Progressing=Unknown (Argo CD: Suspended)
//   Paused        False    RolloutPaused         Progressing=Unknown (Argo CD: Suspended)
//   Complete      True     RolloutComplete       Progressing=True; Ready=False with
//                                                MinimumReplicasUnavailable/InsufficientHosts
//                                                (Reconciling) while too few are Available
//   Failed        False    RolloutFailed or      Stalled=True, Progressing=False
//                          ProgressDeadlineExceeded
//   RollingBack   False    RollingBack            Reconciling=True, RolledBack=True
//   RolledBack    False    RolledBack             Stalled=True, RolledBack=True, until the
//                                                template changes: never a successful update
import type { DockerServiceStatus, Rollout, RolloutPhase } from '../../crds/dockerservice.js';
import type { Condition } from '../../crds/kit.js';
import { Reason } from '../../crds/reasons.js';
import {
  markReady,
  markReconciling,
  markRetrying,
  markStalled,
  READY,
  RECONCILING,
  removeCondition,
  setCondition,
  STALLED,
  type ConditionDetail,
} from '../../runtime/conditions.js';
import type { RolloutContext } from './rollout-machine.js';
import type { RolloutCounts } from './types.js';

export const PROGRESSING = 'Progressing';
export const AVAILABLE = 'Available';
export const ROLLED_BACK = 'RolledBack';

export interface ServiceFindings {
  generation: number | undefined;
  phase: RolloutPhase;
  context: RolloutContext;
  counts: RolloutCounts;
  unplaced: number;
  maxUnavailable: number;
  specHash: string;
  /** Revision numbers by hash (ControllerRevisions). */
  revisionOf: (hash: string | undefined) => number | undefined;
  hosts: Rollout['hosts'];
  machine: Rollout['machine'];
  now: Date;
}

const short = (hash: string | undefined) => (hash ?? '').slice(0, 10);

function describe(f: ServiceFindings): string {
  const { context: c, counts } = f;
  const revision = (hash: string | undefined) => `revision ${f.revisionOf(hash) ?? '?'} (${short(hash)})`;
  const progress = `${counts.updatedAvailable}/${counts.desired} Available at ${revision(c.target)}`;
  const byPhase: Record<RolloutPhase, string> = {
    Progressing: `rolling out ${revision(c.target)}: ${progress}`,
    CanaryPaused: `the canary of ${revision(c.target)} is Available; set the dockyard.io/promote annotation to ${c.target} to go on`,
    Paused: 'the rollout is paused (spec.paused or dockyard.io/paused)',
    Complete: `${progress}`,
    Failed: `${revision(c.target)} failed (${c.failure ?? 'RolloutFailed'}): ${progress}; change the template to go on`,
    RollingBack: `${revision(c.abandoned)} failed (${c.failure ?? 'manual rollback'}); rolling back to ${revision(c.target)}: ${progress}`,
    RolledBack: `running ${revision(c.target)}, not ${revision(c.abandoned)} that the spec asks for: it failed (${c.failure ?? 'manual rollback'}); change the template to roll out again`,
  };
  const unplaced = f.unplaced > 0 ? `; ${f.unplaced} replica(s) have no host (InsufficientHosts)` : '';
  return byPhase[f.phase] + unplaced;
}

function availability(
  f: ServiceFindings,
  d: Omit<ConditionDetail, 'reason'>,
): ConditionDetail & { ok: boolean } {
  const ok = f.counts.available >= f.counts.desired - f.maxUnavailable && f.unplaced === 0;
  const reason = ok
    ? Reason.MinimumReplicasAvailable
    : f.unplaced > 0
      ? Reason.InsufficientHosts
      : Reason.MinimumReplicasUnavailable;
  return { ok, reason, ...d };
}

type Conditions = Condition[];

type Detail = { message: string; observedGeneration?: number };
type KstatusRule = (f: ServiceFindings, list: Conditions, d: Detail) => Conditions;

/** Ready=False, neither Reconciling nor Stalled: someone holds the rollout. */
const held =
  (reason: Reason): KstatusRule =>
  (f, list, d) =>
    setCondition(
      removeCondition(removeCondition(list, RECONCILING), STALLED),
      { type: READY, status: 'False', reason, ...d },
      f.now,
    );

/** Ready, Reconciling and Stalled by phase, as the table above says. */
const KSTATUS: Record<RolloutPhase, KstatusRule> = {
  Progressing: (f, list, d) => markReconciling(list, { reason: Reason.RollingUpdate, ...d }, f.now),
  CanaryPaused: held(Reason.CanaryPaused),
  Paused: held(Reason.RolloutPaused),
  Complete: (f, list, d) => {
    const avail = availability(f, d);
    if (avail.ok && f.context.target === f.specHash)
      return markReady(list, { reason: Reason.RolloutComplete, ...d }, f.now);
    return markRetrying(list, { reason: avail.reason, ...d }, f.now);
  },
  Failed: (f, list, d) =>
    markStalled(list, { reason: f.context.failure ?? Reason.RolloutFailed, ...d }, f.now),
  RollingBack: (f, list, d) => markRetrying(list, { reason: Reason.RollingBack, ...d }, f.now),
  RolledBack: (f, list, d) => markStalled(list, { reason: Reason.RolledBack, ...d }, f.now),
};

const PROGRESSING_BY_PHASE: Record<RolloutPhase, { status: Condition['status']; reason: Reason }> = {
  Progressing: { status: 'True', reason: Reason.RollingUpdate },
  CanaryPaused: { status: 'Unknown', reason: Reason.CanaryPaused },
  Paused: { status: 'Unknown', reason: Reason.RolloutPaused },
  Complete: { status: 'True', reason: Reason.RolloutComplete },
  Failed: { status: 'False', reason: Reason.RolloutFailed },
  RollingBack: { status: 'True', reason: Reason.RollingBack },
  RolledBack: { status: 'False', reason: Reason.RolledBack },
};

function conditionsOf(f: ServiceFindings, previous: Conditions | undefined, message: string): Conditions {
  const d = { message, ...(f.generation !== undefined ? { observedGeneration: f.generation } : {}) };
  let list = KSTATUS[f.phase](f, previous ?? [], d);
  const progressing = PROGRESSING_BY_PHASE[f.phase];
  const progressingReason =
    f.phase === 'Failed' ? (f.context.failure ?? progressing.reason) : progressing.reason;
  list = setCondition(
    list,
    { type: PROGRESSING, status: progressing.status, ...d, reason: progressingReason },
    f.now,
  );
  const avail = availability(f, d);
  list = setCondition(
    list,
    { type: AVAILABLE, status: avail.ok ? 'True' : 'False', ...d, reason: avail.reason },
    f.now,
  );
  const rolledBack = f.phase === 'RollingBack' || f.phase === 'RolledBack';
  return rolledBack
    ? setCondition(list, { type: ROLLED_BACK, status: 'True', ...d, reason: Reason.RolledBack }, f.now)
    : removeCondition(list, ROLLED_BACK);
}

/** The whole status, from the previous one's conditions (their transition times carry over). */
export function serviceStatus(
  f: ServiceFindings,
  previous: DockerServiceStatus | undefined,
): DockerServiceStatus {
  const { counts, context: c } = f;
  const message = describe(f);
  return {
    ...(f.generation !== undefined ? { observedGeneration: f.generation } : {}),
    conditions: conditionsOf(f, previous?.conditions, message),
    phase: f.phase,
    replicas: counts.desired,
    readyReplicas: counts.ready,
    updatedReplicas: f.context.target === f.specHash ? counts.updated : 0,
    availableReplicas: counts.available,
    readySummary: `${counts.ready}/${counts.desired}`,
    updateRevision: f.specHash,
    currentRevision: c.target,
    ...(c.stable !== undefined ? { stableRevision: c.stable } : {}),
    ...(f.revisionOf(c.target) !== undefined ? { revision: f.revisionOf(c.target) } : {}),
    rollout: {
      phase: f.phase,
      revision: f.revisionOf(c.target) ?? 0,
      targetHash: c.target,
      ...(c.abandoned !== undefined ? { abandonedHash: c.abandoned } : {}),
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      ...(c.lastProgressAt !== undefined ? { lastProgressAt: c.lastProgressAt } : {}),
      updated: counts.updated,
      ready: counts.updatedReady,
      available: counts.updatedAvailable,
      failed: counts.updatedFailed,
      message,
      ...(f.hosts !== undefined ? { hosts: f.hosts } : {}),
      ...(f.machine !== undefined ? { machine: f.machine } : {}),
    },
  };
}
