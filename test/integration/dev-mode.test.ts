import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WORKLOAD_IMAGE } from '../../src/localenv/images.js';
import { waitFor } from '../../src/localenv/process.js';
import { LEVEL, type LogLine } from '../support/log-capture.js';
import { parseSamples, scrape } from '../support/prometheus.js';
import { killAllTestProcesses, REPO_ROOT, TestProcess, type ChildExit } from '../support/test-process.js';

// `dockyard dev` (what `npm start` runs) as a person uses it, in a real child
// process: it comes up on the host Docker daemon, the quickstart example is
// applied with the kubectl its env file puts on PATH, everything becomes
// Ready and the two containers talk. Ctrl-C stops it cleanly; a second start
// on the same data dir finds the objects again and adopts the containers
// without a single Docker write.

const run = promisify(execFile);
const QUICKSTART_IMAGE = 'busybox:1.36';
const NS = 'quickstart';
const KINDS = 'dockercontainer,dockerimage,dockernetwork,dockervolume';
const READY_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 30_000;

let dataDir: string;
let docker: Dockerode;

function dockerClient(url: string): Dockerode {
  const u = new URL(url);
  return u.protocol === 'unix:'
    ? new Dockerode({ socketPath: u.pathname })
    : new Dockerode({ host: u.hostname, port: u.port || '2375', protocol: 'http' });
}

function startDev(name: string): TestProcess {
  return new TestProcess(name, 'src/main.ts', ['dev', '--data-dir', dataDir, '--log-format=json'], {
    DOCKYARD_DEV_DIR: undefined,
    KUBECONFIG: undefined,
  });
}

const isReadyLine = (l: LogLine) => l.msg === 'dockyard dev is ready';

async function waitReady(dev: TestProcess): Promise<LogLine> {
  const { line } = await dev.waitForLog(isReadyLine, READY_TIMEOUT_MS, 'ready');
  return line;
}

/** A shell that sourced the env file dev mode wrote, as the printed next steps say. */
async function shell(command: string, timeoutMs = 150_000): Promise<string> {
  const { stdout } = await run('bash', ['-c', `source ${join(dataDir, 'env')} && ${command}`], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    timeout: timeoutMs,
  });
  return stdout;
}

async function stop(dev: TestProcess): Promise<{ exit: ChildExit; seconds: number }> {
  const sentAt = dev.signal('SIGINT');
  const exit = await Promise.race([
    dev.exited,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), STOP_TIMEOUT_MS + 5_000)),
  ]);
  if (!exit) throw new Error(`dockyard dev did not exit after SIGINT\n${dev.describe()}`);
  return { exit, seconds: (exit.at - sentAt) / 1000 };
}

/** Control-plane processes whose command line names our data dir. */
function controlPlaneProcesses(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const program = argv[0]?.split('/').pop() ?? '';
      const controlPlane = ['etcd', 'kube-apiserver', 'kube-controller-manager'].includes(program);
      if (controlPlane && argv.some((a) => a.includes(dataDir))) found.push(`${entry}: ${argv.join(' ')}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Docker writes (anything but GET/HEAD) Dockyard made, from its /metrics. */
async function dockerWrites(metricsUrl: string): Promise<number> {
  return parseSamples(await scrape(metricsUrl))
    .filter((s) => s.name === 'dockyard_docker_requests_total')
    .filter((s) => !/^(GET|HEAD) /.test(s.labels.operation ?? ''))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Reconciles (any result) this process's controller `name` finished. */
async function reconciles(metricsUrl: string, name: string): Promise<number> {
  return parseSamples(await scrape(metricsUrl))
    .filter((s) => s.name === 'controller_runtime_reconcile_total' && s.labels.controller === name)
    .reduce((sum, s) => sum + s.value, 0);
}

/** What Docker reports about the quickstart objects: ids and start times must survive an adopting restart. */
async function snapshot(): Promise<Record<string, string>> {
  const label = JSON.stringify({ label: [`dockyard.io/namespace=${NS}`] });
  const out: Record<string, string> = {};
  for (const c of await docker.listContainers({ all: true, filters: label })) {
    const info = await docker.getContainer(c.Id).inspect();
    out[`container ${info.Name}`] =
      `${info.Id} started ${info.State.StartedAt} running ${info.State.Running}`;
  }
  for (const n of await docker.listNetworks({ filters: label })) out[`network ${n.Name}`] = n.Id;
  for (const v of (await docker.listVolumes({ filters: label })).Volumes ?? [])
    out[`volume ${v.Name}`] = String((v as { CreatedAt?: string }).CreatedAt);
  return out;
}

async function clientAnswer(): Promise<string> {
  const { stdout } = await run('docker', ['exec', `${NS}.client`, 'cat', '/tmp/answer'], { timeout: 10_000 });
  return stdout;
}

/** busybox:1.36 as a second tag of the locally built workload image (what dev mode's stand-in is). */
async function removeStandInTag(): Promise<void> {
  try {
    const [tagged, standIn] = await Promise.all([
      docker.getImage(QUICKSTART_IMAGE).inspect(),
      docker.getImage(WORKLOAD_IMAGE).inspect(),
    ]);
    if (tagged.Id === standIn.Id) await docker.getImage(QUICKSTART_IMAGE).remove({ noprune: true });
  } catch {
    // not there
  }
}

async function removeQuickstartObjects(): Promise<void> {
  const filters = JSON.stringify({ label: [`dockyard.io/namespace=${NS}`] });
  for (const c of await docker.listContainers({ all: true, filters }))
    await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove();
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? [])
    await docker.getVolume(v.Name).remove();
}

let before: Record<string, string>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dockyard-dev-test-'));
  docker = dockerClient(inject('dockerHost'));
  await removeQuickstartObjects();
  // So the first start shows the missing-image path: pull fails here, the stand-in is tagged.
  await removeStandInTag();
});

afterAll(async () => {
  await killAllTestProcesses();
  await removeQuickstartObjects().catch((err: unknown) => console.error('cleanup of quickstart failed', err));
  await removeStandInTag();
  if (dataDir && controlPlaneProcesses().length === 0) rmSync(dataDir, { recursive: true, force: true });
});

describe('dockyard dev', () => {
  it(
    'starts, runs the quickstart through its env file, and stops cleanly on SIGINT',
    async () => {
      const dev = startDev('dockyard dev (1)');
      const ready = await waitReady(dev);
      console.log(`[dev-mode] first start ready in ${String(ready.startupSeconds)} s`);
      expect(ready).toMatchObject({ hostReady: true, dockerHost: inject('dockerHost') });
      expect(dev.find((l) => /LOCALLY BUILT STAND-IN/.test(l.msg ?? ''))).toBeDefined();
      expect(dev.count((l) => l.level >= LEVEL.error)).toBe(0);

      const env = readFileSync(join(dataDir, 'env'), 'utf8');
      expect(env).toContain(`export KUBECONFIG=${join(dataDir, 'kubeconfig')}`);
      expect(env).toContain(`export DOCKER_HOST=${inject('dockerHost')}`);
      // The kubectl on PATH is the one built with the control plane, not the machine's.
      expect((await shell('command -v kubectl')).trim()).toMatch(/\/bin\/k8s-[^/]+\/kubectl$/);

      await shell('kubectl apply -f examples/quickstart.yaml');
      await shell(`kubectl wait --for=condition=Ready -n ${NS} ${KINDS} --all --timeout=120s`);
      expect(await shell('kubectl get dockyard -A')).toMatch(/dockerhost\.dockyard\.io\/local/);
      // The dashboard is served beside the controllers, on loopback, at the URL the ready line prints.
      const dashboardUrl = String(ready.dashboard);
      expect(dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/?$/);
      const page = await fetch(dashboardUrl);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Dockyard dashboard</title>');
      const state = (await (await fetch(new URL('/api/state', dashboardUrl))).json()) as {
        hosts: Array<{ name: string }>;
      };
      expect(state.hosts.map((h) => h.name)).toContain('local');
      await waitFor(async () => (await clientAnswer()).includes('hello from server'), {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        what: 'quickstart.client to have an answer from the server',
      });
      before = await snapshot();
      expect(Object.keys(before)).toHaveLength(4); // two containers, a network, a volume

      const { exit, seconds } = await stop(dev);
      console.log(`[dev-mode] first stop took ${seconds.toFixed(1)} s`);
      expect(exit.code, dev.describe()).toBe(0);
      expect(seconds).toBeLessThan(30);
      expect(controlPlaneProcesses()).toEqual([]);
      expect(dev.count((l) => l.level >= LEVEL.error)).toBe(0);
      // User workloads stay.
      expect(await snapshot()).toEqual(before);
    },
    READY_TIMEOUT_MS + 240_000,
  );

  it(
    'starts again on the same data dir: the objects are there, Ready, and adopted without Docker writes',
    async () => {
      expect(before, 'the first test must have run').toBeDefined();
      const dev = startDev('dockyard dev (2)');
      const ready = await waitReady(dev);
      console.log(`[dev-mode] second start ready in ${String(ready.startupSeconds)} s`);
      expect(
        dev.find((l) => l.msg === `${QUICKSTART_IMAGE} is present (the locally built stand-in)`),
      ).toBeDefined();
      const metricsUrl = String(ready.metrics);

      const names = (await shell(`kubectl get -n ${NS} ${KINDS} -o name`)).trim().split('\n').sort();
      expect(names).toEqual([
        'dockercontainer.dockyard.io/client',
        'dockercontainer.dockyard.io/server',
        'dockerimage.dockyard.io/busybox',
        'dockernetwork.dockyard.io/app',
        'dockervolume.dockyard.io/data',
      ]);
      // Stored status says Ready from the first run; wait until this process looked at every object.
      await waitFor(
        async () => {
          const counts = await Promise.all(
            ['dockercontainer', 'dockerimage', 'dockernetwork', 'dockervolume'].map((c) =>
              reconciles(metricsUrl, c),
            ),
          );
          return counts[0]! >= 2 && counts.slice(1).every((n) => n >= 1);
        },
        { timeoutMs: 60_000, intervalMs: 500, what: 'every quickstart object to be reconciled' },
      );
      await shell(`kubectl wait --for=condition=Ready -n ${NS} ${KINDS} --all --timeout=120s`);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(await dockerWrites(metricsUrl)).toBe(0);
      expect(await snapshot()).toEqual(before);
      expect(await clientAnswer()).toContain('hello from server');

      const { exit, seconds } = await stop(dev);
      console.log(`[dev-mode] second stop took ${seconds.toFixed(1)} s`);
      expect(exit.code, dev.describe()).toBe(0);
      expect(seconds).toBeLessThan(30);
      expect(controlPlaneProcesses()).toEqual([]);
      expect(dev.count((l) => l.level >= LEVEL.error)).toBe(0);
    },
    READY_TIMEOUT_MS + 120_000,
  );

  it(
    'deletes the quickstart with `kubectl delete -f` and takes it again with `kubectl apply -f`',
    async () => {
      expect(before, 'the first test must have run').toBeDefined();
      const dev = startDev('dockyard dev (3)');
      await waitReady(dev);

      // kubectl waits until every object, the namespace included, is gone. Before the
      // control plane ran kube-controller-manager the namespace stayed Terminating forever
      // and the apply below was refused ("namespace is being terminated").
      await shell('kubectl delete -f examples/quickstart.yaml --timeout=120s');
      expect(await shell(`kubectl get namespace ${NS} --ignore-not-found -o name`)).toBe('');
      // Containers and the network (deletionPolicy Delete) went with them; the volume (Orphan) stays.
      expect(Object.keys(await snapshot())).toEqual([`volume ${NS}.data`]);

      await shell('kubectl apply -f examples/quickstart.yaml');
      // The kept volume is taken back by the new DockerVolume of the same name
      // (dev mode's --adopt-previous; before it, this one stalled in NameConflict).
      await shell(`kubectl wait --for=condition=Ready -n ${NS} ${KINDS} --all --timeout=120s`);
      expect(
        await shell(`kubectl get dockervolume data -n ${NS} -o jsonpath='{.status.hosts[0].adopted}'`),
      ).toBe('true');
      await run('docker', ['exec', `${NS}.server`, 'sh', '-c', 'echo kept > /data/marker'], {
        timeout: 10_000,
      });
      expect(dev.count((l) => l.level >= LEVEL.error)).toBe(0);

      const { exit } = await stop(dev);
      expect(exit.code, dev.describe()).toBe(0);
      expect(controlPlaneProcesses()).toEqual([]);
    },
    READY_TIMEOUT_MS + 300_000,
  );

  it(
    'a new dev environment over the old daemon (data dir wiped) takes the previous objects back',
    async () => {
      expect(before, 'the first tests must have run').toBeDefined();
      const old = await snapshot();
      expect(Object.keys(old)).toHaveLength(4);
      rmSync(dataDir, { recursive: true, force: true });
      const dev = startDev('dockyard dev (4, fresh data dir)');
      await waitReady(dev);

      await shell('kubectl apply -f examples/quickstart.yaml');
      await shell(`kubectl wait --for=condition=Ready -n ${NS} ${KINDS} --all --timeout=180s`);
      // The containers were recreated with this environment's labels, the volume kept with its data.
      const uids = (
        await shell(`kubectl get dockercontainer -n ${NS} -o jsonpath='{.items[*].metadata.uid}'`)
      )
        .trim()
        .split(' ');
      for (const name of ['server', 'client']) {
        const info = await docker.getContainer(`${NS}.${name}`).inspect();
        expect(uids).toContain(info.Config.Labels['dockyard.io/uid']);
      }
      const { stdout } = await run('docker', ['exec', `${NS}.server`, 'cat', '/data/marker'], {
        timeout: 10_000,
      });
      expect(stdout.trim()).toBe('kept');
      expect(old[`volume ${NS}.data`]).toBe((await snapshot())[`volume ${NS}.data`]);
      await waitFor(async () => (await clientAnswer()).includes('hello from server'), {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        what: 'the adopted quickstart to talk again',
      });
      expect(dev.count((l) => l.level >= LEVEL.error)).toBe(0);

      const { exit } = await stop(dev);
      expect(exit.code, dev.describe()).toBe(0);
      expect(controlPlaneProcesses()).toEqual([]);
    },
    READY_TIMEOUT_MS + 300_000,
  );
});
