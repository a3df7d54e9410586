import { describe, expect, it } from 'vitest';
import type { DockerComposeStack } from '../../crds/dockercomposestack.js';
import { childKey, coreRefs, desiredChildren, planChildren, type Child } from './children.js';
import { configMapFiles, projectHash } from './project-files.js';
import { stackStatus, type OwnedResource } from './stack-status.js';

// The stack controller's pure parts: which children it wants and what it does
// to get there, the project folder from a ConfigMap, and the status it reports
// from its resources' own conditions.

const stack = (
  over: Partial<DockerComposeStack['spec']> = {},
  status?: DockerComposeStack['status'],
): DockerComposeStack => ({
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerComposeStack',
  metadata: { name: 'shop', namespace: 'team', uid: 'uid-1', generation: 2 },
  spec: { hostName: 'n1', project: { compose: 'services: {}' }, ...over },
  ...(status ? { status } : {}),
});

const manifest = (kind: string, name: string) => ({
  apiVersion: kind === 'ConfigMap' ? 'v1' : 'dockyard.io/v1alpha1',
  kind,
  metadata: { name, namespace: 'team', labels: { 'compose.dockyard.io/project': 'shop' } },
});

const owned = (kind: string, name: string, uid = 'uid-1'): Child => ({
  ...manifest(kind, name),
  metadata: {
    name,
    namespace: 'team',
    ownerReferences: [{ apiVersion: 'x', kind: 'DockerComposeStack', name: 'shop', uid, controller: true }],
  },
});

describe('children', () => {
  it('are the manifests with the stack as controller and its label', () => {
    const [child] = desiredChildren(stack(), [manifest('DockerContainer', 'shop-web')]);
    expect(child?.metadata.labels).toEqual({
      'compose.dockyard.io/project': 'shop',
      'compose.dockyard.io/stack': 'shop',
    });
    expect(child?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'dockyard.io/v1alpha1',
        kind: 'DockerComposeStack',
        name: 'shop',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('are created when new, applied when present, and deleted when gone, containers before what they use', () => {
    const desired = desiredChildren(stack(), [
      manifest('DockerNetwork', 'shop-default'),
      manifest('DockerContainer', 'shop-web'),
    ]);
    const plan = planChildren(desired, [
      owned('DockerNetwork', 'shop-default'),
      owned('DockerVolume', 'shop-old'),
      owned('DockerContainer', 'shop-worker'),
      owned('ConfigMap', 'shop-old-config'),
    ]);
    expect(plan.map((a) => `${a.type} ${childKey(a.child)}`)).toEqual([
      'apply DockerNetwork/shop-default',
      'create DockerContainer/shop-web',
      'delete DockerContainer/shop-worker',
      'delete DockerVolume/shop-old',
      'delete ConfigMap/shop-old-config',
    ]);
  });

  it('read ConfigMaps and Secrets the project wants and those the inventory remembers, by name', () => {
    const desired = [manifest('Secret', 'shop-token'), manifest('DockerContainer', 'shop-web')];
    expect(
      coreRefs(desired, [
        { kind: 'ConfigMap', name: 'shop-old' },
        { kind: 'DockerVolume', name: 'shop-data' },
      ]),
    ).toEqual([
      { kind: 'Secret', name: 'shop-token' },
      { kind: 'ConfigMap', name: 'shop-old' },
    ]);
  });
});

describe('project folder', () => {
  it('puts ConfigMap keys at their names, or where items say, binary keys included', () => {
    const files = configMapFiles(
      {
        data: { 'compose.yaml': 'services: {}', 'nginx.conf': 'x' },
        binaryData: { 'cert.der': Buffer.from([0, 1]).toString('base64') },
      },
      [{ key: 'nginx.conf', path: 'conf/nginx.conf' }],
    );
    expect([...files.keys()].sort()).toEqual(['cert.der', 'compose.yaml', 'conf/nginx.conf']);
    expect(files.get('cert.der')).toEqual(Buffer.from([0, 1]));
  });

  it('hashes files, variables, files list and profiles, not map order', () => {
    const files = new Map([['compose.yaml', Buffer.from('a')]]);
    const base = projectHash(stack({ env: { A: '1', B: '2' } }), files);
    expect(projectHash(stack({ env: { B: '2', A: '1' } }), files)).toBe(base);
    expect(projectHash(stack({ env: { A: '1', B: '3' } }), files)).not.toBe(base);
    expect(
      projectHash(stack({ env: { A: '1', B: '2' }, project: { compose: 'x', profiles: ['debug'] } }), files),
    ).not.toBe(base);
    expect(
      projectHash(stack({ env: { A: '1', B: '2' } }), new Map([['compose.yaml', Buffer.from('b')]])),
    ).not.toBe(base);
  });
});

describe('status', () => {
  const now = new Date('2026-12-04T12:00:00Z');
  const resource = (
    kind: string,
    name: string,
    ready: 'True' | 'False' | 'Unknown',
    reason: string,
    service?: string,
  ): OwnedResource => ({
    kind,
    metadata: {
      name,
      generation: 1,
      ...(service ? { labels: { 'compose.dockyard.io/service': service } } : {}),
    },
    status: {
      observedGeneration: 1,
      conditions: [
        { type: 'Ready', status: ready, reason, message: '', lastTransitionTime: now.toISOString() },
      ],
    },
  });
  const findings = (resources: OwnedResource[], over: Partial<Parameters<typeof stackStatus>[0]> = {}) => ({
    stack: stack(),
    resources,
    inventory: resources.map((r) => ({ kind: r.kind ?? '', name: r.metadata.name })),
    unsupportedKeys: [],
    now,
    ...over,
  });
  const ready = (s: ReturnType<typeof stackStatus>) => s.conditions?.find((c) => c.type === 'Ready');

  it('is Ready when every resource is, with each service and the count', () => {
    const status = stackStatus(
      findings([
        resource('DockerNetwork', 'shop-default', 'True', 'Converged'),
        resource('DockerContainer', 'shop-web', 'True', 'Converged', 'web'),
      ]),
    );
    expect(ready(status)).toMatchObject({ status: 'True', reason: 'Converged', observedGeneration: 2 });
    expect(status.services).toEqual([
      { name: 'web', kind: 'DockerContainer', resource: 'shop-web', ready: 'True', reason: 'Converged' },
    ]);
    expect(status.readySummary).toBe('1/1');
    expect(status.resources).toBe(2);
  });

  it('waits (Reconciling) while resources start or wait for dependencies, and fails on a failed one', () => {
    const waiting = stackStatus(
      findings([resource('DockerContainer', 'shop-web', 'False', 'DependenciesNotReady', 'web')]),
    );
    expect(ready(waiting)).toMatchObject({ status: 'Unknown', reason: 'ResourcesNotReady' });
    expect(ready(waiting)?.message).toMatch(/DockerContainer shop-web \(DependenciesNotReady\)/);
    const failed = stackStatus(
      findings([
        resource('DockerContainer', 'shop-web', 'False', 'CrashLoopBackOff', 'web'),
        resource('DockerContainer', 'shop-db', 'True', 'Converged', 'db'),
      ]),
    );
    expect(ready(failed)).toMatchObject({
      status: 'False',
      reason: 'ResourcesFailed',
      message: 'failed: DockerContainer shop-web (CrashLoopBackOff)',
    });
    expect(failed.conditions?.find((c) => c.type === 'Reconciling')?.status).toBe('True');
  });

  it('does not trust a resource status from before its last spec change', () => {
    const stale = resource('DockerContainer', 'shop-web', 'True', 'Converged', 'web');
    stale.metadata.generation = 2;
    expect(ready(stackStatus(findings([stale])))).toMatchObject({
      status: 'Unknown',
      reason: 'ResourcesNotReady',
    });
  });

  it('stalls on a project problem and keeps the last good project’s facts', () => {
    const before = stack(
      {},
      {
        projectHash: 'abc',
        projectName: 'shop',
        services: [{ name: 'web', kind: 'DockerContainer', resource: 'shop-web', ready: 'True' }],
      },
    );
    const status = stackStatus(
      findings([], { stack: before, problem: { reason: 'InvalidCompose', message: 'yaml: line 2' } }),
    );
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'InvalidCompose' });
    expect(status.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('True');
    expect(status.projectHash).toBe('abc');
    expect(status.services).toHaveLength(1);
  });
});
