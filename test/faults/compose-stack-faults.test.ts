import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject } from '../support/kube.js';
import type { TestProcess } from '../support/test-process.js';
import {
  CONTROLLER_START_TIMEOUT_MS,
  startControllerProcess,
  workersStarted,
} from './support/controller-process.js';
import {
  FAULT_ENV_START_TIMEOUT_MS,
  startFaultEnvironment,
  type FaultEnvironment,
} from './support/environment.js';
import { expectInvariants, waitForConvergence, type InvariantInput } from './support/invariants.js';
import { scenarioPrng } from './support/prng.js';
import { scenarioClock } from './support/timing.js';

// A DockerComposeStack over both nodes (a web app, its database, a one-shot
// migration, a worker, a config and a secret) is deployed, then its compose
// file changed, while the real controller process is SIGKILLed at seeded
// random points and restarted. A killed process may stop between creating a
// child and recording it anywhere: the next one must take it back, never make
// a second one or report a conflict with itself. Afterwards the stack is
// Ready, owns exactly the resources the project converts to (its inventory
// says so), the changed service runs its new spec, and the fault suite's
// invariant holds for everything the stack owns (one Docker object per
// resource and host, no orphans, status that says what Docker says).

const NS = 'stack-faults';
const STACK = 'shop';
const KILLS_PER_PHASE = 3;
const CONVERGE_MS = 180_000;
/** Exits at once on SIGTERM (busybox `sleep` as PID 1 ignores it). */
const SLEEPER = `["sh", "-c", "trap 'exit 0' TERM; sleep 36000 & wait"]`;

let env: FaultEnvironment;
let controllers: TestProcess[] = [];
const input = (): InvariantInput => ({ kube: env.kube, nodes: env.nodes, namespaces: [NS] });

const compose = (greeting: string) => `
services:
  db:
    image: \${IMAGE}
    command: ["sh", "-c", "touch /data/ready; trap 'exit 0' TERM; sleep 36000 & wait"]
    volumes: [ "dbdata:/data" ]
    healthcheck: { test: "test -f /data/ready", interval: 1s, retries: 30 }
  migrate:
    image: \${IMAGE}
    command: ["sh", "-c", "echo done > /data/migrated"]
    restart: "no"
    volumes: [ "dbdata:/data" ]
    depends_on: { db: { condition: service_healthy } }
  web:
    image: \${IMAGE}
    command: ${SLEEPER}
    environment: { GREETING: "${greeting}" }
    configs: [ site ]
    secrets: [ token ]
    networks: [ front, back ]
    depends_on: { migrate: { condition: service_completed_successfully } }
  worker:
    image: \${IMAGE}
    command: ${SLEEPER}
    networks: [ back ]
configs:
  site: { content: "greeting ${greeting}" }
secrets:
  token: { environment: TOKEN }
networks:
  front: {}
  back: { internal: true }
volumes:
  dbdata: {}
`;

/** What the project converts to: 4 containers, 3 networks (db and migrate are on the default one), a volume, a ConfigMap and a Secret. */
const EXPECTED_INVENTORY = [
  'ConfigMap/shop-site',
  'DockerContainer/shop-db',
  'DockerContainer/shop-migrate',
  'DockerContainer/shop-web',
  'DockerContainer/shop-worker',
  'DockerNetwork/shop-back',
  'DockerNetwork/shop-default',
  'DockerNetwork/shop-front',
  'DockerVolume/shop-dbdata',
  'Secret/shop-token',
];

async function startController(name: string): Promise<void> {
  const proc = startControllerProcess(env.cp, { name, syncPeriod: '10s' });
  controllers.push(proc);
  await proc.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
}

async function killControllers(): Promise<void> {
  await Promise.all(controllers.map((p) => p.kill()));
  controllers = [];
}

type Stack = DockyardObject & {
  status?: { inventory?: Array<{ kind: string; name: string }>; readySummary?: string };
};

const getStack = async () => (await env.kube.get('DockerComposeStack', NS, STACK)) as Stack | undefined;

/** SIGKILLs the controller `KILLS_PER_PHASE` times at seeded points of the next seconds, restarting it each time. */
async function killDuring(phase: string): Promise<string[]> {
  const rng = scenarioPrng(`compose-stack-${phase}`);
  const seen: string[] = [];
  for (let k = 1; k <= KILLS_PER_PHASE; k++) {
    await new Promise((r) => setTimeout(r, rng.int(300, 2_500)));
    const stack = await getStack();
    seen.push(`${String(condition(stack, 'Ready')?.reason)} ${String(stack?.status?.readySummary)}`);
    await killControllers();
    await startController(`controller ${phase} #${k}`);
  }
  return seen;
}

async function expectConverged(greeting: string): Promise<void> {
  const stack = await env.kube.waitFor('DockerComposeStack', NS, STACK, isReady, 'Ready', CONVERGE_MS);
  const inventory = (stack as Stack).status?.inventory?.map((i) => `${i.kind}/${i.name}`) ?? [];
  expect(inventory).toEqual(EXPECTED_INVENTORY);
  // Exactly one of each: a restarted controller took back what a killed one created.
  for (const kind of ['DockerContainer', 'DockerNetwork', 'DockerVolume']) {
    const owned = await env.kube.list(kind, NS);
    expect(owned.map((o) => `${kind}/${o.metadata.name}`).sort()).toEqual(
      EXPECTED_INVENTORY.filter((i) => i.startsWith(`${kind}/`)),
    );
  }
  const web = await env.kube.get('DockerContainer', NS, `${STACK}-web`);
  expect((web?.spec as { env?: unknown }).env).toEqual([{ name: 'GREETING', value: greeting }]);
  await waitForConvergence(input(), CONVERGE_MS);
  await expectInvariants(input());
}

beforeAll(async () => {
  env = await startFaultEnvironment([NS]);
}, FAULT_ENV_START_TIMEOUT_MS);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(controllers.map((p) => p.describe()).join('\n'));
});

afterAll(async () => {
  await killControllers();
  await env?.stop();
});

async function writeProject(greeting: string, create = false): Promise<void> {
  const body = {
    metadata: { name: 'shop-files', namespace: NS },
    data: { 'compose.yaml': compose(greeting), '.env': `IMAGE=${env.lab.workloadImage}\nTOKEN=s3cret\n` },
  };
  if (create) await env.kube.core.createNamespacedConfigMap({ namespace: NS, body });
  else await env.kube.core.replaceNamespacedConfigMap({ name: 'shop-files', namespace: NS, body });
}

describe('DockerComposeStack under controller SIGKILLs', () => {
  it('deploys while the controller is killed three times, and ends converged', async () => {
    const clock = scenarioClock('compose-stack: deploy');
    await startController('controller #0');
    await writeProject('hello', true);
    await env.kube.create('DockerComposeStack', NS, STACK, {
      hostSelector: {},
      project: { configMapRef: { name: 'shop-files' } },
    });
    clock.lap(`kills at ${(await killDuring('deploy')).join(', ')}`);
    await expectConverged('hello');
    clock.done();
  });

  it('rolls a changed compose file while the controller is killed three times', async () => {
    const clock = scenarioClock('compose-stack: change');
    const worker = await env.kube.get('DockerContainer', NS, `${STACK}-worker`);
    await writeProject('bonjour');
    // The stack reads its ConfigMap every 30 s; a spec touch makes it look now.
    await env.kube.patch('DockerComposeStack', NS, STACK, {
      metadata: { annotations: { 'dockyard.io/reconcile-requested-at': 'change' } },
    });
    clock.lap(`kills at ${(await killDuring('change')).join(', ')}`);
    await waitFor(
      async () =>
        (
          (await env.kube.get('DockerContainer', NS, `${STACK}-web`))?.spec as {
            env?: Array<{ value: string }>;
          }
        ).env?.[0]?.value === 'bonjour',
      {
        timeoutMs: CONVERGE_MS,
        what: 'web to carry the new environment',
      },
    );
    await expectConverged('bonjour');
    // The worker's spec did not change: it was never touched.
    const after = await env.kube.get('DockerContainer', NS, `${STACK}-worker`);
    expect(after?.metadata.generation).toBe(worker?.metadata.generation);
    clock.done();
  });
});
