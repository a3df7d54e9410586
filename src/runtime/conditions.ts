// Status conditions (metav1.Condition) and the kstatus conventions that
// kubectl wait, Argo CD and Flux read:
//   Ready        normal-true:   True when converged.
//   Reconciling  abnormal-true: present (True) only while work is in progress.
//   Stalled      abnormal-true: present (True) only when progress is impossible without a change.
// Ready=True never coexists with Reconciling or Stalled: they are removed.
// All functions are pure and return new arrays; inputs are never mutated.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase machine-readable reason. */
  reason: string;
  message: string;
  observedGeneration?: number;
  /** RFC 3339, changed only when status changes. */
  lastTransitionTime: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export const READY = 'Ready';
export const RECONCILING = 'Reconciling';
export const STALLED = 'Stalled';

/** metav1.Time precision: whole seconds. */
export function formatTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

export function isFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'False';
}

/**
 * Sets `input` in place of the condition of the same type (or appends it).
 * lastTransitionTime moves only when the status flips; reason, message and
 * observedGeneration are updated regardless.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  now: Date = new Date(),
): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === input.type);
  const lastTransitionTime =
    existing && existing.status === input.status ? existing.lastTransitionTime : formatTime(now);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    ...(input.observedGeneration !== undefined ? { observedGeneration: input.observedGeneration } : {}),
    lastTransitionTime,
  };
  if (!existing) return [...list, next];
  return list.map((c) => (c === existing ? next : c));
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export interface ConditionDetail {
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** Converged: Ready=True; Reconciling and Stalled removed. */
export function markReady(
  conditions: readonly Condition[] | undefined,
  d: ConditionDetail,
  now?: Date,
): Condition[] {
  const without = removeCondition(removeCondition(conditions, RECONCILING), STALLED);
  return setCondition(without, { type: READY, status: 'True', ...d }, now);
}

/** Work in progress (creating, pulling, waiting for health): Reconciling=True, Ready=Unknown, Stalled removed. */
export function markReconciling(
  conditions: readonly Condition[] | undefined,
  d: ConditionDetail,
  now?: Date,
): Condition[] {
  let next = removeCondition(conditions, STALLED);
  next = setCondition(next, { type: RECONCILING, status: 'True', ...d }, now);
  return setCondition(next, { type: READY, status: 'Unknown', ...d }, now);
}

/**
 * A failure that will be retried (daemon unreachable, pull failed): Ready=False
 * with the failure's reason, Reconciling=True (still trying), Stalled removed.
 */
export function markRetrying(
  conditions: readonly Condition[] | undefined,
  d: ConditionDetail,
  now?: Date,
): Condition[] {
  let next = removeCondition(conditions, STALLED);
  next = setCondition(next, { type: RECONCILING, status: 'True', ...d }, now);
  return setCondition(next, { type: READY, status: 'False', ...d }, now);
}

/** No progress possible until the spec changes (invalid spec, terminal error): Stalled=True, Ready=False, Reconciling removed. */
export function markStalled(
  conditions: readonly Condition[] | undefined,
  d: ConditionDetail,
  now?: Date,
): Condition[] {
  let next = removeCondition(conditions, RECONCILING);
  next = setCondition(next, { type: STALLED, status: 'True', ...d }, now);
  return setCondition(next, { type: READY, status: 'False', ...d }, now);
}
