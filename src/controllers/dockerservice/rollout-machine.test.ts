import { describe, expect, it } from 'vitest';
import { decide } from '../../managed/machine-spec.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import {
  rolloutMachineSpec,
  type RolloutContext,
  type RolloutEffect,
  type RolloutObservation,
} from './rollout-machine.js';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function look(overrides: Partial<RolloutObservation> = {}): RolloutObservation {
  return {
    type: 'OBSERVED',
    now: at(0),
    specHash: 'a',
    paused: false,
    complete: false,
    updatedAvailable: 0,
    tooManyFailures: false,
    progressDeadlineMs: 600_000,
    failureAction: 'Rollback',
    canary: 'none',
    awaitingPromotion: false,
    ...overrides,
  };
}

/** Feeds the observations in turn; returns every step's state, effects and the last context. */
function drive(saved: SavedMachineState<RolloutContext> | undefined, looks: Partial<RolloutObservation>[]) {
  const trail: Array<{ state: string; effects: RolloutEffect[] }> = [];
  let current = saved;
  for (const l of looks) {
    const step = decide(rolloutMachineSpec, current, look(l));
    trail.push({ state: step.saved.state, effects: step.effects });
    current = step.saved;
  }
  if (!current) throw new Error('no step');
  return { trail, context: current.context, saved: current };
}

const completeAt = (
  hash: string,
  extra: Partial<RolloutContext> = {},
): SavedMachineState<RolloutContext> => ({
  state: 'Complete',
  version: rolloutMachineSpec.version,
  context: { target: hash, stable: hash, updatedAvailable: 3, ...extra },
});

describe('rollout machine', () => {
  it('rolls out the first revision and records it as stable', () => {
    const { trail, context } = drive(undefined, [{}, { updatedAvailable: 2 }, { complete: true }]);
    expect(trail).toEqual([
      { state: 'Progressing', effects: ['recordRolloutStarted'] },
      { state: 'Progressing', effects: [] },
      { state: 'Complete', effects: ['recordComplete'] },
    ]);
    expect(context).toMatchObject({ target: 'a', stable: 'a' });
  });

  it('rolls a failed revision back to the stable one and stays RolledBack while the spec asks for it', () => {
    const { trail, context } = drive(completeAt('a'), [
      { specHash: 'b' },
      { specHash: 'b', tooManyFailures: true },
      { specHash: 'b', complete: true },
      { specHash: 'b', complete: true },
    ]);
    expect(trail.map((t) => t.state)).toEqual(['Progressing', 'RollingBack', 'RolledBack', 'RolledBack']);
    expect(trail[1]?.effects).toEqual(['recordRollbackStarted']);
    expect(trail[2]?.effects).toEqual(['recordRolledBack']);
    expect(context).toMatchObject({ target: 'a', stable: 'a', abandoned: 'b', failure: 'RolloutFailed' });
  });

  it('never rolls back to the revision being abandoned: a second bad revision still goes back to the stable one', () => {
    const { context, trail } = drive(completeAt('a'), [
      { specHash: 'b' },
      { specHash: 'c', updatedAvailable: 1 },
      { specHash: 'c', tooManyFailures: true },
    ]);
    expect(trail.map((t) => t.state)).toEqual(['Progressing', 'Progressing', 'RollingBack']);
    expect(context).toMatchObject({ target: 'a', abandoned: 'c', stable: 'a' });
  });

  it('starts over from RolledBack when the template changes, and is Complete when the spec asks for what runs', () => {
    const rolledBack: SavedMachineState<RolloutContext> = {
      state: 'RolledBack',
      version: rolloutMachineSpec.version,
      context: { target: 'a', stable: 'a', abandoned: 'b', updatedAvailable: 3 },
    };
    expect(drive(rolledBack, [{ specHash: 'c' }]).trail[0]).toEqual({
      state: 'Progressing',
      effects: ['recordRolloutStarted'],
    });
    expect(drive(rolledBack, [{ specHash: 'a', complete: true }]).trail[0]?.state).toBe('Complete');
  });

  it('stops at Failed when there is nothing to roll back to or failureAction is Pause, and a failing rollback stops too', () => {
    expect(drive(undefined, [{}, { tooManyFailures: true }]).trail[1]).toEqual({
      state: 'Failed',
      effects: ['recordFailed'],
    });
    const paused = drive(completeAt('a'), [
      { specHash: 'b' },
      { specHash: 'b', tooManyFailures: true, failureAction: 'Pause' },
    ]);
    expect(paused.trail[1]?.state).toBe('Failed');
    expect(paused.context.failure).toBe('RolloutFailed');
    const back = drive(completeAt('a'), [
      { specHash: 'b' },
      { specHash: 'b', tooManyFailures: true },
      { specHash: 'b', tooManyFailures: true },
    ]);
    expect(back.trail.map((t) => t.state)).toEqual(['Progressing', 'RollingBack', 'Failed']);
  });

  it('fails a rollout that makes no progress within the deadline, and counts progress', () => {
    const deadline = 60_000;
    const { trail, context } = drive(completeAt('a'), [
      { specHash: 'b', now: at(0), progressDeadlineMs: deadline },
      { specHash: 'b', now: at(50), updatedAvailable: 1, progressDeadlineMs: deadline },
      { specHash: 'b', now: at(100), updatedAvailable: 1, progressDeadlineMs: deadline },
      { specHash: 'b', now: at(111), updatedAvailable: 1, progressDeadlineMs: deadline },
    ]);
    expect(trail.map((t) => t.state)).toEqual(['Progressing', 'Progressing', 'Progressing', 'RollingBack']);
    expect(context.failure).toBe('ProgressDeadlineExceeded');
  });

  it('pauses from any state and resumes where it was, with a fresh deadline', () => {
    const { trail, context } = drive(completeAt('a'), [
      { specHash: 'b', now: at(0) },
      { specHash: 'b', now: at(1), paused: true },
      { specHash: 'b', now: at(5000), paused: true },
      { specHash: 'b', now: at(5001) },
      { specHash: 'b', now: at(5002) },
    ]);
    expect(trail.map((t) => t.state)).toEqual([
      'Progressing',
      'Paused',
      'Paused',
      'Progressing',
      'Progressing',
    ]);
    expect(trail[1]?.effects).toEqual(['recordPaused']);
    expect(trail[3]?.effects).toEqual(['recordResumed']);
    expect(context.lastProgressAt).toBe(at(5001));
  });

  it('holds a manual canary until it is promoted', () => {
    const { trail } = drive(completeAt('a'), [
      { specHash: 'b', canary: 'waiting', awaitingPromotion: true },
      { specHash: 'b', canary: 'passed', awaitingPromotion: true },
      { specHash: 'b', canary: 'passed', awaitingPromotion: true, now: at(100_000) },
      { specHash: 'b', canary: 'passed', awaitingPromotion: false, now: at(100_001) },
    ]);
    expect(trail.map((t) => t.state)).toEqual(['Progressing', 'CanaryPaused', 'CanaryPaused', 'Progressing']);
    expect(trail[3]?.effects).toEqual(['recordPromoted']);
  });

  it('rolls back by hand once per annotation value: from Complete to the revision before', () => {
    const start = completeAt('b', { previousStable: 'a' });
    const { trail, context } = drive(start, [
      { specHash: 'b', rollbackRequest: '1' },
      { specHash: 'b', rollbackRequest: '1', complete: true },
      { specHash: 'b', rollbackRequest: '1', complete: true },
    ]);
    expect(trail.map((t) => t.state)).toEqual(['RollingBack', 'RolledBack', 'RolledBack']);
    expect(trail[0]?.effects).toEqual(['recordRollbackRequested']);
    expect(context).toMatchObject({ target: 'a', abandoned: 'b', stable: 'a', rollbackHonoured: '1' });
    expect(context.previousStable).toBeUndefined();
  });

  it('ignores a rollback request with nothing to go back to, and does not act on it later', () => {
    const { trail, context } = drive(completeAt('a'), [{ rollbackRequest: 'x' }, { rollbackRequest: 'x' }]);
    expect(trail.map((t) => t.state)).toEqual(['Complete', 'Complete']);
    expect(context.rollbackHonoured).toBe('x');
  });
});
