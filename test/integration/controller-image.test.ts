import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, chown, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installCrds } from '../../src/crds/install.js';
import { buildControllerImage, ensureNodeBaseImage } from '../../src/localenv/controller-image.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { LOCALENV_LABEL } from '../../src/localenv/host-docker.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { isReady, Kube, registerLabHosts } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { imageRuntimeEnv } from '../../src/localenv/image-runtime-env.js';

// The controller's container image, built from the project's Dockerfile on a
// locally built Node 26 base (no registry here), then run the way a pod runs
// it: non-root, read-only root file system, no capabilities, no privilege
// escalation, a mounted kubeconfig. On the host network it reaches the test
// control plane at 127.0.0.1 and the lab node's published port, and it must
// reconcile for real: a DockerHost turns Ready and a DockerVolume appears on
// the node.

/** Cold: debootstrap (~40 s) plus `npm ci` and the compile in the build stage (~75 s); warm: seconds. */
const IMAGE_BUILD_TIMEOUT_MS = 15 * 60_000;
const NONROOT_UID = 65532;
/** The local base is ~245 MB (Node alone is 150 MB); the app adds ~105 MB of node_modules and dist. */
const MAX_IMAGE_BYTES = 450e6;
const KUBECONFIG_IN_CONTAINER = '/etc/dockyard/kubeconfig';
const NS = 'image-test';

let docker: Dockerode;
let image: string;
let cp: ControlPlane | undefined;
let lab: Lab | undefined;
let kube: Kube;
let controller: Dockerode.Container | undefined;
let kubeconfigDir: string | undefined;

const say = (m: string) => console.log(`[controller-image] ${m}`);
const verbose = (m: string) => process.env.DOCKYARD_TEST_VERBOSE && say(m);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** stdout and stderr of a non-TTY container: Docker's multiplexed frames (8-byte header, then payload). */
async function logsOf(container: Dockerode.Container): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  const chunks: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length;) {
    const size = raw.readUInt32BE(at + 4);
    chunks.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Adds the container's log to a failure, which otherwise only says what timed out. */
async function withLogs<T>(what: Promise<T>): Promise<T> {
  try {
    return await what;
  } catch (err) {
    const logs = controller ? await logsOf(controller).catch((e: Error) => `(no logs: ${e.message})`) : '';
    throw new Error(`${(err as Error).message}\ncontroller container log:\n${logs}`, { cause: err });
  }
}

beforeAll(
  async () => {
    docker = new Dockerode({ socketPath: new URL(inject('dockerHost')).pathname });
    const buildImage = async () => {
      let t = Date.now();
      const base = await ensureNodeBaseImage(docker, verbose);
      say(`base ${base} ready in ${seconds(t)}`);
      t = Date.now();
      image = await buildControllerImage(docker, { baseImage: base, log: verbose });
      say(`image ${image} ready in ${seconds(t)}`);
    };
    // All three at once; allSettled so nothing is still starting when afterAll cleans up.
    const results = await Promise.allSettled([
      buildImage(),
      startControlPlane().then((started) => (cp = started)),
      startLab({ nodes: [{ name: 'n1' }] }).then((started) => (lab = started)),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    kube = new Kube(cp!);
    // The chart installs the CRDs; the controller itself does not.
    await installCrds(cp!.kubeConfig());
    await kube.namespace(NS);
  },
  IMAGE_BUILD_TIMEOUT_MS + CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS,
);

afterAll(async () => {
  await controller?.remove({ force: true }).catch(() => {});
  if (kubeconfigDir) await rm(kubeconfigDir, { recursive: true, force: true });
  await Promise.all([lab?.stop(), cp?.stop()]);
});

/** Runs the image once with `cmd` (entrypoint as given), returns its exit code and output. */
async function runOnce(entrypoint: string[], cmd: string[]): Promise<{ code: number; output: string }> {
  const c = await docker.createContainer({ Image: image, Entrypoint: entrypoint, Cmd: cmd });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    return { code: StatusCode, output: await logsOf(c) };
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

describe('controller image', () => {
  it('carries production code only: no local environment, no dev mode, no testcontainers', async () => {
    const paths = ['dist/localenv', 'dist/cli/dev-command.js', 'node_modules/testcontainers', 'dist/main.js'];
    const { output } = await runOnce(
      [
        'node',
        '-e',
        `for (const p of ${JSON.stringify(paths)}) console.log(p, require('fs').existsSync('/app/' + p))`,
      ],
      [],
    );
    expect(output.trim().split('\n').sort()).toEqual([
      'dist/cli/dev-command.js false',
      'dist/localenv false',
      'dist/main.js true',
      'node_modules/testcontainers false',
    ]);
    // `dockyard dev` says where it lives instead of failing on a missing module.
    const dev = await runOnce(['node', '/app/dist/main.js'], ['dev']);
    expect(dev.code).toBe(2);
    expect(dev.output).toContain('dockyard dev is not part of this installation');
    // The same image is the edge agent (docs/agent.md): its command and libraries load, and a
    // missing bootstrap is a clear error, not a crash.
    const agent = await runOnce(['node', '/app/dist/main.js'], ['agent', '--bootstrap', '/nonexistent']);
    expect(agent.output).toContain('cannot read the bootstrap Secret');
    expect(agent.output).toContain('/nonexistent: no such file or directory');
    expect(agent.code).toBe(2);
  });

  it('runs as uid 65532 with the documented entrypoint, labels and a reasonable size', async () => {
    const info = await docker.getImage(image).inspect();
    say(`${image}: ${(info.Size / 1e6).toFixed(0)} MB`);
    expect(info.Config.User).toBe(`${NONROOT_UID}:${NONROOT_UID}`);
    expect(info.Config.WorkingDir).toBe('/app');
    expect(info.Config.Entrypoint).toEqual(['node', '/app/dist/main.js']);
    expect(info.Config.Cmd).toEqual(['controller']);
    // Keeps RSS flat as objects grow (the same settings the bench measures).
    expect(info.Config.Env).toEqual(expect.arrayContaining(imageRuntimeEnv()));
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(info.Config.Labels).toMatchObject({
      'org.opencontainers.image.title': 'dockyard',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.version': pkg.version,
    });
    expect(info.Size).toBeLessThan(MAX_IMAGE_BYTES);
  });

  it('reconciles from a read-only, unprivileged container: DockerHost Ready, DockerVolume on the node', async () => {
    // The admin kubeconfig is root's 0600 file; the container's user gets its own
    // copy, as a pod gets a Secret volume it can read.
    kubeconfigDir = await mkdtemp(join(tmpdir(), 'dockyard-image-kubeconfig-'));
    const kubeconfig = join(kubeconfigDir, 'kubeconfig');
    await copyFile(cp!.kubeconfigPath, kubeconfig);
    await chown(kubeconfig, NONROOT_UID, NONROOT_UID);
    await chmod(kubeconfig, 0o400);

    const started = Date.now();
    controller = await docker.createContainer({
      name: `dockyard-controller-image-${randomBytes(3).toString('hex')}`,
      Image: image,
      Cmd: [
        'controller',
        `--kubeconfig=${KUBECONFIG_IN_CONTAINER}`,
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        '--log-format=json',
      ],
      Labels: { [LOCALENV_LABEL]: 'true' },
      HostConfig: {
        NetworkMode: 'host',
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Binds: [`${kubeconfig}:${KUBECONFIG_IN_CONTAINER}:ro`],
      },
    });
    await controller.start();

    // The process really runs as 65532 (not only the image's config says so).
    const { State } = await controller.inspect();
    const status = readFileSync(`/proc/${State.Pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${NONROOT_UID}\\s+${NONROOT_UID}\\s+${NONROOT_UID}`, 'm'));
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);

    // Its readiness probe answers on the host network (the port is ephemeral: read it from the log).
    const probePort = await withLogs(
      waitFor(
        async () => {
          const line = jsonLines(await logsOf(controller!)).find((l) => l.msg === 'serving health probes');
          return (line?.address as { port?: number } | undefined)?.port;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'the controller to serve its health probes' },
      ),
    );
    const readyz = await withLogs(
      waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined);
          return res?.ok ? res : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'the controller to be ready' },
      ),
    );
    expect(readyz.status).toBe(200);

    await withLogs(registerLabHosts(kube, lab!));
    await kube.create('DockerVolume', NS, 'data', {
      hostSelector: { matchLabels: { 'dockyard.io/test-node': 'n1' } },
      labels: { app: 'image-test' },
      deletionPolicy: 'Delete',
    });
    const ready = await withLogs(kube.waitFor('DockerVolume', NS, 'data', isReady, 'Ready', 60_000));
    expect(ready.status?.hostsReady).toBe('1/1');
    const volume = (await lab!.node('n1').client().getVolume(`${NS}.data`).inspect()) as {
      Labels: Record<string, string> | null;
    };
    expect(volume.Labels).toMatchObject({ app: 'image-test' });
    say(`containerised controller converged a DockerVolume ${seconds(started)} after its start`);

    // Deletion goes through the finalizer: with deletionPolicy Delete, the volume leaves the node.
    await kube.delete('DockerVolume', NS, 'data');
    await withLogs(kube.waitForGone('DockerVolume', NS, 'data', 60_000));
    await expect(lab!.node('n1').client().getVolume(`${NS}.data`).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });

    // Everything it logged is JSON, and nothing tried to write to the read-only file system.
    const logs = await logsOf(controller);
    expect(() => jsonLines(logs)).not.toThrow();
    expect(logs).not.toMatch(/EROFS|read-only file system/i);
    expect((await controller.inspect()).State.Running).toBe(true);
  });

  it('stops gracefully on SIGTERM (docker stop, a pod deletion) with exit code 0', async () => {
    expect(controller, 'the previous test starts the container').toBeDefined();
    await controller!.stop({ t: 30 });
    const { State } = await controller!.inspect();
    expect(State.ExitCode).toBe(0);
    expect(jsonLines(await logsOf(controller!)).map((l) => l.msg)).toContain('manager stopped');
  });
});
