import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import { startSingleNodeWorld, WORLD_NODE, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// Ordering and run-once containers on a real Docker node, Compose style:
// spec.dependsOn with each condition (Started, Ready with a healthcheck,
// Completed), the migration pattern (the app is created only after the
// migration exited 0; a failed migration keeps it waiting, saying so),
// a run-once container that ends Completed, stays so across a controller
// restart without being started again, and runs again only on
// dockyard.io/rerun.

let world: World;
let kube: Kube;
const NS = 'order';
const SYNC_MS = 3_000;
const SECRET_VALUE = 'hunter2-s3cr3t-value';

beforeAll(async () => {
  world = await startSingleNodeWorld({ namespaces: [NS], dockyard: { syncPeriodMs: SYNC_MS } });
  ({ kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

const entry = (o: DockyardObject | undefined) => o?.status?.hosts?.find((h) => h.name === WORLD_NODE);
const phaseIs = (phase: string) => (o: DockyardObject) => entry(o)?.phase === phase;

async function inspect(name: string) {
  return world.lab
    .node(WORLD_NODE)
    .client()
    .getContainer(`${NS}.${name}`)
    .inspect()
    .catch(() => undefined);
}

async function mustInspect(name: string) {
  const c = await inspect(name);
  if (!c) throw new Error(`container ${NS}.${name} does not exist`);
  return c;
}

const ms = (iso: string) => Date.parse(iso);
const severalSyncs = () => new Promise((resolve) => setTimeout(resolve, 3 * SYNC_MS));

/** A container of the workload image on the node, running `script` in sh. */
const sh = (script: string, more: Record<string, unknown> = {}) => ({
  hostName: WORLD_NODE,
  image: world.image,
  command: ['sh', '-c', script],
  ...more,
});
const runOnce = { restartPolicy: { name: 'no' } };

describe('dependsOn and run-once containers', () => {
  it('orders creation by each condition, runs a migration once, and keeps a failed one’s dependents waiting', async () => {
    await kube.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'mig' }, stringData: { pw: SECRET_VALUE } },
    });
    const failingEnv = [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'mig', key: 'pw' } } }];
    await Promise.all([
      // The dependents first: each must wait for what it depends on.
      kube.create('DockerContainer', NS, 'app', {
        ...sh('sleep 3600'),
        dependsOn: [{ name: 'migrate', condition: 'Completed' }],
      }),
      kube.create('DockerContainer', NS, 'web', {
        ...sh('sleep 3600'),
        dependsOn: [{ name: 'db', condition: 'Ready' }],
      }),
      kube.create('DockerContainer', NS, 'cache', {
        ...sh('sleep 3600'),
        dependsOn: [{ name: 'db' }],
      }),
      kube.create('DockerContainer', NS, 'bad-app', {
        ...sh('sleep 3600'),
        dependsOn: [{ name: 'bad-migrate', condition: 'Completed' }],
      }),
      kube.create('DockerContainer', NS, 'cyc-a', { ...sh('sleep 3600'), dependsOn: [{ name: 'cyc-b' }] }),
      kube.create('DockerContainer', NS, 'cyc-b', { ...sh('sleep 3600'), dependsOn: [{ name: 'cyc-a' }] }),
      kube.create('DockerContainer', NS, 'migrate', sh('sleep 2; echo migrated', runOnce)),
      kube.create('DockerContainer', NS, 'db', {
        ...sh('sleep 3; touch /tmp/ok; sleep 3600'),
        healthcheck: { command: ['cat', '/tmp/ok'], interval: '1s', retries: 30 },
      }),
      kube.create(
        'DockerContainer',
        NS,
        'bad-migrate',
        sh('echo starting; echo "password is $PW"; echo "relation missing"; exit 3', {
          ...runOnce,
          env: failingEnv,
        }),
      ),
    ]);

    // Completed: Ready (kstatus, Argo CD), and the app created only after the migration exited 0.
    const [migrated] = await Promise.all([
      kube.waitFor(
        'DockerContainer',
        NS,
        'migrate',
        (o) => isReady(o) && phaseIs('Completed')(o),
        'Completed',
        60_000,
      ),
      kube.waitFor('DockerContainer', NS, 'app', isReady, 'Ready', 60_000),
      kube.waitFor('DockerContainer', NS, 'web', isReady, 'Ready', 60_000),
      kube.waitFor('DockerContainer', NS, 'cache', isReady, 'Ready', 60_000),
    ]);
    expect(entry(migrated)).toMatchObject({ exitCode: 0, state: 'exited' });
    expect(entry(migrated)?.finishedAt).toBeDefined();
    const migrate = await mustInspect('migrate');
    const app = await mustInspect('app');
    expect(ms(app.Created)).toBeGreaterThan(ms(migrate.State.FinishedAt));

    // Ready: web was created after db's healthcheck first passed; Started: cache after db started.
    const db = await mustInspect('db');
    const firstHealthy = db.State.Health?.Log?.find((l) => l.ExitCode === 0);
    const web = await mustInspect('web');
    const cache = await mustInspect('cache');
    expect(firstHealthy).toBeDefined();
    expect(ms(web.Created)).toBeGreaterThanOrEqual(ms(String(firstHealthy?.End)));
    expect(ms(cache.Created)).toBeGreaterThan(ms(db.State.StartedAt));

    // A failed migration: Failed with its exit code and last lines, Secret values redacted.
    const failed = await kube.waitFor(
      'DockerContainer',
      NS,
      'bad-migrate',
      phaseIs('Failed'),
      'Failed',
      30_000,
    );
    expect(entry(failed)).toMatchObject({ exitCode: 3 });
    const lines = String(entry(failed)?.lastLogLines);
    expect(lines).toContain('relation missing');
    expect(lines).toContain('password is [REDACTED]');
    expect(JSON.stringify(failed)).not.toContain(SECRET_VALUE);
    expect(condition(failed, 'Stalled')).toMatchObject({ status: 'True', reason: 'Failed' });
    // …and its dependent waits, saying for what.
    const waiting = await kube.waitFor(
      'DockerContainer',
      NS,
      'bad-app',
      (o) => String(entry(o)?.message).includes('exit code 3'),
      'waiting on the failed migration',
    );
    expect(entry(waiting)?.phase).toBe('WaitingForDependencies');
    expect(entry(waiting)?.message).toContain(
      'DockerContainer/bad-migrate (Completed; now Failed, exit code 3)',
    );
    expect(condition(waiting, 'Ready')).toMatchObject({ status: 'False', reason: 'DependenciesNotReady' });
    expect(await inspect('bad-app')).toBeUndefined();

    // A cycle never resolves by itself: said, nothing created.
    const cyc = await kube.waitFor(
      'DockerContainer',
      NS,
      'cyc-a',
      (o) => condition(o, 'Stalled')?.reason === 'DependencyCycle',
      'DependencyCycle',
    );
    expect(entry(cyc)?.message).toContain('cyc-a → cyc-b → cyc-a');
    expect(await inspect('cyc-a')).toBeUndefined();

    // A controller restart: still Completed, not started again (Docker's StartedAt unchanged).
    await world.restartDockyard();
    await severalSyncs();
    const afterRestart = await kube.get('DockerContainer', NS, 'migrate');
    expect(entry(afterRestart)?.phase).toBe('Completed');
    expect(isReady(afterRestart as DockyardObject)).toBe(true);
    const migrateAfter = await mustInspect('migrate');
    expect(migrateAfter.State.StartedAt).toBe(migrate.State.StartedAt);
    expect(migrateAfter.Id).toBe(migrate.Id);

    // Rerun is an explicit act, honoured once; the running app is left alone.
    await kube.patch('DockerContainer', NS, 'migrate', {
      metadata: { annotations: { 'dockyard.io/rerun': '1' } },
    });
    const rerun = await waitFor(
      async () => {
        const c = await mustInspect('migrate');
        return c.State.StartedAt !== migrate.State.StartedAt && !c.State.Running ? c : undefined;
      },
      { timeoutMs: 30_000, what: 'migrate to run again and finish' },
    );
    expect(rerun.Id).toBe(migrate.Id);
    expect(rerun.State.ExitCode).toBe(0);
    await kube.waitFor('DockerContainer', NS, 'migrate', phaseIs('Completed'), 'Completed again');
    await severalSyncs();
    expect((await mustInspect('migrate')).State.StartedAt).toBe(rerun.State.StartedAt);
    expect((await mustInspect('app')).Id).toBe(app.Id);

    // The failed migration fixed (a spec change recreates and runs it): its dependent starts after it.
    await kube.patch('DockerContainer', NS, 'bad-migrate', {
      spec: { command: ['sh', '-c', 'echo fixed'] },
    });
    await kube.waitFor('DockerContainer', NS, 'bad-app', isReady, 'Ready after the fix', 60_000);
    const fixed = await mustInspect('bad-migrate');
    expect(fixed.State.ExitCode).toBe(0);
    expect(ms((await mustInspect('bad-app')).Created)).toBeGreaterThan(ms(fixed.State.FinishedAt));
  });
});
