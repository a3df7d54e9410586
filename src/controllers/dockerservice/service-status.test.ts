import { describe, expect, it } from 'vitest';
import type { RolloutPhase } from '../../crds/dockerservice.js';
import { serviceStatus, type ServiceFindings } from './service-status.js';

const NOW = new Date('2026-12-04T10:00:00Z');
const counts = {
  desired: 4,
  current: 4,
  ready: 4,
  available: 4,
  updated: 4,
  updatedReady: 4,
  updatedAvailable: 4,
  updatedFailed: 0,
};

function findings(phase: RolloutPhase, overrides: Partial<ServiceFindings> = {}): ServiceFindings {
  return {
    generation: 3,
    phase,
    context: { target: 'bbbb', stable: 'aaaa', updatedAvailable: 4 },
    counts,
    unplaced: 0,
    maxUnavailable: 1,
    specHash: 'bbbb',
    revisionOf: (h) => ({ aaaa: 1, bbbb: 2 })[h ?? ''],
    hosts: undefined,
    machine: undefined,
    now: NOW,
    ...overrides,
  };
}

const byType = (phase: RolloutPhase, overrides: Partial<ServiceFindings> = {}) =>
  Object.fromEntries(
    (serviceStatus(findings(phase, overrides), undefined).conditions ?? []).map((c) => [
      c.type,
      `${c.status} ${c.reason}`,
    ]),
  );

describe('serviceStatus', () => {
  it.each([
    [
      'Complete',
      {
        Ready: 'True RolloutComplete',
        Progressing: 'True RolloutComplete',
        Available: 'True MinimumReplicasAvailable',
      },
    ],
    [
      'Progressing',
      {
        Ready: 'Unknown RollingUpdate',
        Reconciling: 'True RollingUpdate',
        Progressing: 'True RollingUpdate',
      },
    ],
    ['Paused', { Ready: 'False RolloutPaused', Progressing: 'Unknown RolloutPaused' }],
    ['CanaryPaused', { Ready: 'False CanaryPaused', Progressing: 'Unknown CanaryPaused' }],
    [
      'RollingBack',
      { Ready: 'False RollingBack', Reconciling: 'True RollingBack', RolledBack: 'True RolledBack' },
    ],
    [
      'RolledBack',
      {
        Ready: 'False RolledBack',
        Stalled: 'True RolledBack',
        RolledBack: 'True RolledBack',
        Progressing: 'False RolledBack',
      },
    ],
  ] as const)('%s', (phase, expected) => {
    expect(byType(phase)).toMatchObject(expected);
  });

  it('never reports a rollback as a successful update, and names both revisions', () => {
    const status = serviceStatus(
      findings('RolledBack', {
        context: {
          target: 'aaaa',
          stable: 'aaaa',
          abandoned: 'bbbb',
          updatedAvailable: 4,
          failure: 'RolloutFailed',
        },
      }),
      undefined,
    );
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RolledBack',
    });
    expect(status.rollout?.message).toMatch(/running revision 1 \(aaaa\), not revision 2 \(bbbb\)/);
    expect(status).toMatchObject({
      updateRevision: 'bbbb',
      currentRevision: 'aaaa',
      revision: 1,
      updatedReplicas: 0,
    });
  });

  it('is not Ready while too few replicas are Available or some have no host', () => {
    expect(byType('Complete', { counts: { ...counts, available: 2 } })).toMatchObject({
      Ready: 'False MinimumReplicasUnavailable',
      Available: 'False MinimumReplicasUnavailable',
    });
    expect(byType('Complete', { unplaced: 1 })).toMatchObject({ Ready: 'False InsufficientHosts' });
  });

  it('reports a failed rollout as Stalled with why', () => {
    expect(
      byType('Failed', {
        context: { target: 'bbbb', updatedAvailable: 0, failure: 'ProgressDeadlineExceeded' },
      }),
    ).toMatchObject({
      Ready: 'False ProgressDeadlineExceeded',
      Stalled: 'True ProgressDeadlineExceeded',
      Progressing: 'False ProgressDeadlineExceeded',
    });
  });

  it('fills the printer columns', () => {
    expect(serviceStatus(findings('Complete'), undefined)).toMatchObject({
      replicas: 4,
      readySummary: '4/4',
      updatedReplicas: 4,
      availableReplicas: 4,
      revision: 2,
      phase: 'Complete',
      observedGeneration: 3,
    });
  });
});
