// What one reconcile does to bring a service's replicas to a revision. Pure.
//
// Two limits hold at every step, whatever the order:
//   - available: slots with an Available replica never drop below
//     desired − maxUnavailable because of something the rollout removed;
//   - surge: replicas that exist (terminating ones included: their container
//     is still there) never exceed desired + maxSurge because of something
//     the rollout created.
// The order decides which limit paces the rollout:
//   StopFirst   remove the old replica (spends maxUnavailable), and only
//               when it is gone start the new one on the same host;
//   StartFirst  start the new replica next to the old one (spends maxSurge)
//               and remove the old one once the new one is Available.
// A replica that is not Available anyway (failed, starting) is replaced
// without spending anything: removing it loses nothing. One on a host that is
// down is left alone: it may still be serving behind a partition, and
// removing it would only take effect when the host is back, stopping all of
// that host's replicas at once. It keeps counting against maxUnavailable; if
// the host stays down past the grace period its slot moves (the schedule's
// call) and it is removed as a stray.
// A new revision's replica that fails stays (it is the evidence the rollout
// machine reads) and keeps holding its limit, so a bad revision stops
// spreading by itself: at most one pace's worth of replicas ever run it.
import type { PlanAction, Replica, RolloutCounts, RolloutPlan, Slot } from './types.js';

export interface PlanStrategy {
  order: 'StopFirst' | 'StartFirst';
  maxUnavailable: number;
  maxSurge: number;
}

export interface PlanInput {
  slots: readonly Slot[];
  /** Replicas that belong to no slot (scale-down, a host that no longer keeps them). */
  surplus: readonly Replica[];
  /** The revision (template hash) to bring replicas to. */
  target: string;
  strategy: PlanStrategy;
  /**
   * How many more slots may start moving from an old revision to the target
   * (a canary step holds the rest); Infinity when nothing holds them.
   */
  updateAllowance: number;
  /** Nothing is created or removed (paused, or a rollout that failed and waits). */
  frozen: boolean;
}

const alive = (r: Replica) => r.state !== 'Terminating';
const available = (r: Replica) => r.state === 'Available';
const RANK: Record<Replica['state'], number> = {
  Available: 0,
  Starting: 1,
  HostDown: 2,
  Failed: 3,
  Terminating: 4,
};

/** The slot's replicas sorted out: the target one on the slot's host, the old ones there, strays elsewhere. */
interface SlotView {
  slot: Slot;
  host: string;
  target?: Replica;
  extraTargets: Replica[];
  old: Replica[];
  strays: Replica[];
  /** A replica on the slot's host is still being removed. */
  stopping: boolean;
}

function viewOf(slot: Slot & { host: string }, target: string): SlotView {
  const living = slot.replicas.filter(alive);
  const onHost = living.filter((r) => r.host === slot.host);
  const targets = onHost.filter((r) => r.revision === target).sort((a, b) => RANK[a.state] - RANK[b.state]);
  return {
    slot,
    host: slot.host,
    target: targets[0],
    extraTargets: targets.slice(1),
    old: onHost.filter((r) => r.revision !== target),
    strays: living.filter((r) => r.host !== slot.host),
    stopping: slot.replicas.some((r) => r.state === 'Terminating' && r.host === slot.host),
  };
}

/** The budgets one reconcile spends, counted once from what exists. */
interface Budget {
  stop: number;
  surge: number;
  updates: number;
}

function countsOf(views: readonly SlotView[], surplus: readonly Replica[], target: string): RolloutCounts {
  const living = [...views.flatMap((v) => v.slot.replicas), ...surplus].filter(alive);
  const updated = living.filter((r) => r.revision === target);
  return {
    desired: views.length,
    current: living.length,
    ready: living.filter((r) => r.ready).length,
    available: views.filter((v) => v.slot.replicas.some((r) => alive(r) && available(r))).length,
    updated: updated.length,
    updatedReady: updated.filter((r) => r.ready).length,
    updatedAvailable: updated.filter(available).length,
    updatedFailed: updated.filter((r) => r.state === 'Failed').length,
  };
}

/** Whether the slot has left its old revision behind (or is on its way): what a canary step counts. */
const touched = (v: SlotView) => v.target !== undefined || (v.old.length === 0 && v.strays.length === 0);

/** Replicas to remove whatever the budgets say: duplicates of the target, and replicas a slot has moved away from. */
function cleanUp(v: SlotView, budget: Budget, out: PlanAction[]): void {
  for (const r of v.extraTargets)
    out.push({ type: 'delete', name: r.name, why: 'a second replica of the slot' });
  const targetUp = v.target !== undefined && available(v.target);
  for (const r of v.strays) {
    if (targetUp || !available(r)) out.push({ type: 'delete', name: r.name, why: `moved to ${v.host}` });
    else if (budget.stop > 0) {
      budget.stop--;
      out.push({ type: 'delete', name: r.name, why: `moved to ${v.host}` });
    }
  }
}

interface SlotStep {
  view: SlotView;
  target: string;
  order: PlanStrategy['order'];
  budget: Budget;
  out: PlanAction[];
}

/** One slot's step toward the target, spending what it must from the budget. */
function stepSlot({ view: v, target, order, budget, out }: SlotStep): void {
  cleanUp(v, budget, out);
  const create = () => out.push({ type: 'create', slot: v.slot.id, host: v.host, revision: target });
  const removeOld = (why: string) => v.old.forEach((r) => out.push({ type: 'delete', name: r.name, why }));
  if (v.target) {
    if (available(v.target) && v.old.length > 0) removeOld('replaced by an Available replica');
    return;
  }
  if (v.old.length === 0) {
    if (!v.stopping) create();
    return;
  }
  if (budget.updates <= 0) return;
  // Its host is down: wait for the host, or for the slot to move.
  if (v.old.some((r) => r.state === 'HostDown')) return;
  if (!v.old.some(available)) {
    budget.updates--;
    removeOld('replaced (it was not Available)');
  } else if (order === 'StopFirst' && budget.stop > 0) {
    budget.stop--;
    budget.updates--;
    removeOld('replaced (StopFirst)');
  } else if (order === 'StartFirst' && budget.surge > 0) {
    budget.surge--;
    budget.updates--;
    create();
  }
}

/**
 * The actions that bring the slots one step closer to the target, and the
 * counts the status and the rollout machine read. Slots whose old replicas
 * are not Available go first: replacing them is free.
 */
export function planRollout(input: PlanInput): RolloutPlan {
  const { slots, surplus, target, strategy } = input;
  const inService = slots.filter((s) => !s.outOfService);
  const placed = inService.filter((s): s is Slot & { host: string } => s.host !== undefined);
  const views = placed.map((s) => viewOf(s, target));
  const counts = countsOf(views, surplus, target);
  counts.desired = inService.length;
  // Hosts too few for every slot do not hold a revision back (status says
  // InsufficientHosts), but a revision no replica could be placed for is not done.
  const complete =
    (inService.length === 0 || placed.length > 0) &&
    views.every(
      (v) => v.target !== undefined && available(v.target) && v.old.length === 0 && v.strays.length === 0,
    );
  const result = (actions: PlanAction[]): RolloutPlan => ({
    actions,
    counts,
    complete,
    unplaced: inService.length - placed.length,
  });
  if (input.frozen) return result([]);

  const existing = [...slots.flatMap((s) => s.replicas), ...surplus].length;
  const budget: Budget = {
    stop: strategy.maxUnavailable - (counts.desired - counts.available),
    surge: counts.desired + strategy.maxSurge - existing,
    updates: input.updateAllowance - views.filter(touched).length,
  };
  const actions: PlanAction[] = surplus
    .filter(alive)
    .map((r) => ({ type: 'delete', name: r.name, why: 'no longer wanted (scaled down or host left)' }));
  const freeFirst = [...views].sort((a, b) => Number(a.old.some(available)) - Number(b.old.some(available)));
  for (const view of freeFirst) stepSlot({ view, target, order: strategy.order, budget, out: actions });
  return result(actions);
}
