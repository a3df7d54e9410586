import { describe, expect, it } from 'vitest';
import type { AdoptedObject } from '../crds/dockerhost.js';
import { OWNER_LABELS } from '../crds/kit.js';
import {
  adoptionAdvice,
  AdoptionListFull,
  claimFields,
  decideAdoption,
  withoutClaims,
  type AdoptionDecision,
  type AdoptionFacts,
} from './adoption.js';
import { CLUSTER_LABEL } from './ownership.js';

const owner = { kind: 'DockerVolume', namespace: 'team-a', name: 'db', uid: 'new-uid' };

function labelled(extra: Record<string, string> = {}): Record<string, string> {
  return {
    [OWNER_LABELS.uid]: 'old-uid',
    [OWNER_LABELS.kind]: 'DockerVolume',
    [OWNER_LABELS.namespace]: 'team-b',
    [OWNER_LABELS.name]: 'data',
    [CLUSTER_LABEL]: 'c1',
    ...extra,
  };
}

const previousSelf = labelled({ [OWNER_LABELS.namespace]: 'team-a', [OWNER_LABELS.name]: 'db' });

const claim = (uid: string): AdoptedObject => ({
  type: 'volume',
  dockerName: 'pgdata',
  uid,
  kind: 'DockerVolume',
  namespace: 'x',
  name: 'y',
  adoptedAt: '2026-12-03T10:00:00Z',
});

const base: AdoptionFacts = {
  labels: {},
  owner,
  policy: 'IfOrphaned',
  clusterId: 'c1',
  adoptPrevious: false,
  allowUnlabelled: true,
  claim: undefined,
};

const ownNamespace = (extra: Record<string, string> = {}) =>
  labelled({ [OWNER_LABELS.namespace]: 'team-a', ...extra });

describe('decideAdoption', () => {
  it.each<[string, Partial<AdoptionFacts>, AdoptionDecision]>([
    [
      'labels carry our uid',
      { labels: labelled({ [OWNER_LABELS.uid]: 'new-uid' }), policy: 'Never' },
      { action: 'ours', adopted: false },
    ],
    [
      'claimed by us earlier',
      { claim: claim('new-uid'), policy: 'Never' },
      { action: 'ours', adopted: true },
    ],
    [
      'Never: a hand-made object stays a conflict',
      { policy: 'Never' },
      { action: 'refuse', why: 'notAsked' },
    ],
    [
      'Never: an orphan of ours stays a conflict',
      { policy: 'Never', labels: labelled() },
      { action: 'refuse', why: 'notAsked' },
    ],
    ['IfOrphaned: a hand-made object is adopted where the host allows it', {}, { action: 'adopt' }],
    [
      'IfOrphaned: a hand-made object is refused where the host does not allow it',
      { allowUnlabelled: false },
      { action: 'refuse', why: 'unlabelledNotAllowed' },
    ],
    [
      'IfOrphaned: another namespace’s orphan (its data) is never taken',
      { labels: labelled(), labelledOwnerLives: false },
      { action: 'refuse', why: 'otherNamespace' },
    ],
    [
      'IfOrphaned: a labelled object needs its owner read live',
      { labels: ownNamespace() },
      { action: 'confirmLabelledOwner' },
    ],
    [
      'IfOrphaned: the labelled owner still exists',
      { labels: ownNamespace(), labelledOwnerLives: true },
      { action: 'refuse', why: 'ownerLives' },
    ],
    [
      'IfOrphaned: the labelled owner is gone (Orphan kept it)',
      { labels: ownNamespace(), labelledOwnerLives: false },
      { action: 'adopt' },
    ],
    [
      'IfOrphaned: no cluster label (older objects) is judged by its owner',
      {
        labels: ownNamespace({ [CLUSTER_LABEL]: undefined as unknown as string }),
        labelledOwnerLives: false,
      },
      { action: 'adopt' },
    ],
    [
      'IfOrphaned: another cluster’s object is never taken',
      { labels: ownNamespace({ [CLUSTER_LABEL]: 'c2' }), labelledOwnerLives: false },
      { action: 'refuse', why: 'otherCluster' },
    ],
    [
      'a claim by another resource needs its claimant read live',
      { claim: claim('other') },
      { action: 'confirmClaimant' },
    ],
    [
      'a claim by a live resource wins',
      { claim: claim('other'), claimantLives: true },
      { action: 'refuse', why: 'adoptedByAnother' },
    ],
    [
      'a stale claim (claimant gone) does not stop an adoption',
      { claim: claim('other'), claimantLives: false },
      { action: 'adopt' },
    ],
    [
      'a stale claim does not stop a refusal either',
      { claim: claim('other'), claimantLives: false, policy: 'Never' },
      { action: 'refuse', why: 'notAsked' },
    ],
    [
      'dev --adopt-previous: our previous self from another cluster, policy Never',
      { policy: 'Never', adoptPrevious: true, labels: { ...previousSelf, [CLUSTER_LABEL]: 'old-dev' } },
      { action: 'adopt' },
    ],
    [
      'dev --adopt-previous: our previous self in this cluster is still checked live',
      { policy: 'Never', adoptPrevious: true, labels: previousSelf },
      { action: 'confirmLabelledOwner' },
    ],
    [
      'dev --adopt-previous: someone else’s object is not ours to take',
      { policy: 'Never', adoptPrevious: true, labels: labelled({ [CLUSTER_LABEL]: 'old-dev' }) },
      { action: 'refuse', why: 'notAsked' },
    ],
    [
      'dev --adopt-previous: a hand-made object is not taken without IfOrphaned',
      { policy: 'Never', adoptPrevious: true },
      { action: 'refuse', why: 'notAsked' },
    ],
  ])('%s', (_name, facts, expected) => {
    const labels = Object.fromEntries(
      Object.entries({ ...(facts.labels ?? {}) }).filter(([, v]) => v !== undefined),
    );
    expect(decideAdoption({ ...base, ...facts, labels })).toEqual(expected);
  });
});

describe('claimFields', () => {
  const req = {
    type: 'volume' as const,
    dockerName: 'pgdata',
    labels: labelled(),
    policy: 'IfOrphaned' as const,
  };

  it('claims the object and releases the uid its labels name, so the sweep keeps it', () => {
    const fields = claimFields(undefined, { req, owner, now: '2026-12-03T12:00:00Z' });
    expect(fields.adoptedObjects).toEqual([
      {
        type: 'volume',
        dockerName: 'pgdata',
        uid: 'new-uid',
        kind: 'DockerVolume',
        namespace: 'team-a',
        name: 'db',
        adoptedAt: '2026-12-03T12:00:00Z',
      },
    ]);
    expect(fields.releasedOwners).toEqual([
      {
        uid: 'old-uid',
        kind: 'DockerVolume',
        namespace: 'team-b',
        name: 'data',
        releasedAt: '2026-12-03T12:00:00Z',
      },
    ]);
  });

  it('replaces a stale claim on the same object and keeps the others', () => {
    const other = { ...claim('z'), dockerName: 'other' };
    const fields = claimFields(
      { adoptedObjects: [claim('gone'), other] },
      { req: { ...req, labels: {} }, owner, now: '2026-12-03T12:00:00Z' },
    );
    expect(fields.adoptedObjects?.map((a) => [a.dockerName, a.uid])).toEqual([
      ['other', 'z'],
      ['pgdata', 'new-uid'],
    ]);
    expect(fields).not.toHaveProperty('releasedOwners');
  });

  it('refuses at the bound instead of dropping a claim', () => {
    const full = Array.from({ length: 4096 }, (_, i) => ({ ...claim(`u${i}`), dockerName: `v${i}` }));
    expect(() => claimFields({ adoptedObjects: full }, { req, owner, now: 'x' })).toThrow(AdoptionListFull);
  });
});

describe('withoutClaims', () => {
  it('drops only the resource’s claims, and says when it holds none', () => {
    const list = [claim('a'), { ...claim('b'), dockerName: 'n2' }];
    expect(withoutClaims(list, 'a')).toEqual([{ ...claim('b'), dockerName: 'n2' }]);
    expect(withoutClaims(list, 'c')).toBeUndefined();
    expect(withoutClaims(undefined, 'a')).toBeUndefined();
  });
});

describe('adoptionAdvice', () => {
  it('says how to adopt when not asked, and why not otherwise, naming no other tenant', () => {
    expect(adoptionAdvice(undefined)).toContain('spec.adoptionPolicy: IfOrphaned');
    expect(adoptionAdvice('notAsked')).toContain('spec.adoptionPolicy: IfOrphaned');
    expect(adoptionAdvice('ownerLives')).toMatch(/cannot be adopted: another Dockyard resource owns it/);
    expect(adoptionAdvice('otherCluster')).toMatch(/another cluster/);
  });
});
