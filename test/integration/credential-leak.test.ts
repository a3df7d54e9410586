import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { run } from '../../src/localenv/exec.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { labRegistry, registrySecret } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// Credentials never leak. Sentinels are planted in every kind of secret
// Dockyard reads:
// - a wrong registry password `SENTINEL-<hex>` (a pull that fails: error paths),
//   and the registry's real random password (a pull that works);
// - a DockerHost TLS key that cannot parse and contains `SENTINEL-<hex>`, and a
//   real client key (its own PEM body lines are the sentinel: a real key cannot
//   be made to contain a chosen string);
// - an env value from a Secret, and a file's content from a Secret (spec.files):
//   they belong in the container, nowhere else.
// The controllers run in process with every log line captured at trace,
// before any redaction (startDockyard's plain pino), so anything logged at all
// counts. Then each sentinel, plain and base64-encoded once or twice at any
// byte alignment (a dockerconfigjson's `auth`, X-Registry-Auth headers, Secret
// data), is searched for in every log line, every Event in the cluster, every
// Dockyard object (kubectl get -o json), and the manager's /metrics. The
// Secrets themselves are searched first: the search must find what is there.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
const NS = 'vault';
const logLines: string[] = [];

const hex = () => randomBytes(12).toString('hex');
const WRONG_PASSWORD = `SENTINEL-${hex()}`;
const BAD_TLS_KEY_MARK = `SENTINEL-${hex()}`;
const ENV_SECRET = `SENTINEL-${hex()}`;
const FILE_SECRET = `SENTINEL-${hex()}`;
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/**
 * `secret` as it could appear inside base64 text at any alignment: for each of
 * the three byte offsets, the characters that depend only on the secret's own
 * bytes (standard and URL alphabets).
 */
function base64Needles(secret: string): string[] {
  const bytes = Buffer.from(secret);
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = offset === 0 ? 0 : 4; // the first group mixes in the padding bytes
    const end = Math.floor((offset + bytes.length) / 3) * 4; // the last partial group depends on what follows
    const needle = encoded.slice(start, end);
    if (needle.length >= 12) out.push(needle, needle.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** The secret itself, base64 of it, and base64 of that (dockerconfigjson data holding an `auth`). */
function needles(secret: string): string[] {
  const once = base64Needles(secret);
  return [...new Set([secret, ...once, ...once.flatMap(base64Needles)])];
}

interface Sentinel {
  what: string;
  needles: string[];
}

function findLeaks(sentinels: Sentinel[], place: string, texts: readonly string[]): string[] {
  const hits: string[] = [];
  for (const s of sentinels) {
    for (const text of texts) {
      const needle = s.needles.find((n) => text.includes(n));
      if (needle !== undefined) {
        const at = text.indexOf(needle);
        hits.push(`${s.what} in ${place}: …${text.slice(Math.max(0, at - 120), at + needle.length + 40)}…`);
      }
    }
  }
  return hits;
}

beforeAll(async () => {
  world = await startWorld({
    // n1 over plain TCP; `secure` with mutual TLS from a Secret holding its real client key.
    lab: { nodes: [{ name: 'n1' }, { name: 'secure', tls: true }], registry: true },
    namespaces: [NS],
    dockyard: {
      syncPeriodMs: 3_000,
      log: { level: 'trace', destination: { write: (line: string) => void logLines.push(line) } },
    },
  });
  ({ cp, lab, kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  // For a person reading a failure: every captured line, if asked for.
  if (process.env.DOCKYARD_LEAK_LOG_DUMP)
    writeFileSync(process.env.DOCKYARD_LEAK_LOG_DUMP, logLines.join(''));
  await world?.stop();
});

describe('credentials never leak', () => {
  it('appear in no log line, Event, object, status or metric, through success and error paths', async () => {
    const { registry, seeded } = labRegistry(lab);
    const secure = lab.node('secure');
    if (!secure.tls) throw new Error('the secure node has no TLS material');
    const realKeyLines = secure.tls.key.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    expect(realKeyLines.length).toBeGreaterThan(0);
    const sentinels: Sentinel[] = [
      { what: 'wrong registry password', needles: needles(WRONG_PASSWORD) },
      { what: 'real registry password', needles: needles(registry.password) },
      { what: 'unparsable TLS key', needles: needles(BAD_TLS_KEY_MARK) },
      { what: 'real TLS key', needles: realKeyLines.flatMap(needles) },
      { what: 'env Secret value', needles: needles(ENV_SECRET) },
      { what: 'file Secret content', needles: needles(FILE_SECRET) },
    ];
    const ref = (tag: string) => `${registry.address}/${seeded.repository}:${tag}`;
    const [goodTag, otherTag] = Object.keys(seeded.tags);
    if (!goodTag || !otherTag) throw new Error('the registry holds fewer than two tags');

    // The Secrets: a working pull Secret (auth form), a wrong one (username/password
    // form), a TLS Secret whose key cannot parse, and env values.
    await registrySecret(kube, { namespace: NS, name: 'good-cred', registry, form: 'auth' });
    await registrySecret(kube, { namespace: NS, name: 'bad-cred', registry, password: WRONG_PASSWORD });
    await kube.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'app-env' }, type: 'Opaque', data: { password: b64(ENV_SECRET) } },
    });
    await kube.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'app-file' }, type: 'Opaque', data: { token: b64(FILE_SECRET) } },
    });
    const badKey = `-----BEGIN PRIVATE KEY-----\nMIIE${BAD_TLS_KEY_MARK}\n${b64(BAD_TLS_KEY_MARK)}\n-----END PRIVATE KEY-----\n`;
    await kube.core.createNamespacedSecret({
      namespace: 'default',
      body: {
        metadata: { name: 'bad-key-tls' },
        type: 'kubernetes.io/tls',
        data: { 'ca.crt': b64(secure.tls.ca), 'tls.crt': b64(secure.tls.cert), 'tls.key': b64(badKey) },
      },
    });

    // The search finds every sentinel where it really is: in the Secrets.
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    const stored = [
      ...(await core.listNamespacedSecret({ namespace: NS })).items,
      ...(await core.listNamespacedSecret({ namespace: 'default' })).items,
    ].map((s) => JSON.stringify(s));
    const found = new Set(findLeaks(sentinels, 'Secrets', stored).map((h) => h.split(' in ')[0]));
    expect([...found].sort()).toEqual(sentinels.map((s) => s.what).sort());

    // Objects that use them, on the success and on the error paths.
    await kube.create('DockerHost', undefined, 'bad-key', {
      endpoint: secure.endpoint,
      tls: { secretRef: { namespace: 'default', name: 'bad-key-tls' } },
      heartbeatIntervalSeconds: 2,
    });
    await kube.create('DockerImage', NS, 'denied', {
      hostName: 'n1',
      image: ref(otherTag),
      pullPolicy: 'Always',
      refreshInterval: '2s',
      pullSecrets: [{ name: 'bad-cred' }],
    });
    await kube.create('DockerImage', NS, 'allowed', {
      hostName: 'secure',
      image: ref(goodTag),
      pullSecrets: [{ name: 'good-cred' }],
    });
    await kube.create('DockerContainer', NS, 'app', {
      hostName: 'secure',
      imageRef: { name: 'allowed' },
      command: ['sleep', '3600'],
      env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'app-env', key: 'password' } } }],
      envFrom: [{ secretRef: { name: 'app-env' }, prefix: 'ALL_' }],
      files: [{ path: '/run/secrets/token', secretKeyRef: { name: 'app-file', key: 'token' } }],
    });

    const badHost = await kube.waitFor(
      'DockerHost',
      undefined,
      'bad-key',
      (o) =>
        condition(o, 'Ready')?.status === 'False' && o.status?.observedGeneration === o.metadata.generation,
      'NotReady on the unparsable key',
      60_000,
    );
    // OpenSSL refuses the key when the connection is built: a TLS problem, said as such.
    expect(condition(badHost, 'Ready')?.reason).toBe('TLSError');
    expect(condition(badHost, 'Ready')?.message).toBeTruthy();
    const denied = await kube.waitFor(
      'DockerImage',
      NS,
      'denied',
      (o) => condition(o, 'Ready')?.status === 'False' && o.status?.hosts?.[0]?.phase === 'Failed',
      'failed with the wrong password',
      90_000,
    );
    expect(JSON.stringify(condition(denied, 'Ready'))).toMatch(/unauthori[sz]ed|authentication|denied/i);
    await kube.waitFor('DockerImage', NS, 'allowed', isReady, 'pulled with the real password', 90_000);
    await kube.waitFor('DockerContainer', NS, 'app', isReady, 'running with env from the Secret', 90_000);
    // The env value really reached the container (so it went through the controller).
    const inspected = await secure.client().getContainer(`${NS}.app`).inspect();
    expect(inspected.Config.Env).toContain(`DB_PASSWORD=${ENV_SECRET}`);
    expect(inspected.Config.Env).toContain(`ALL_password=${ENV_SECRET}`);
    const file = await secure.exec(['docker', 'exec', `${NS}.app`, 'cat', '/run/secrets/token']);
    expect(file.output.trim()).toBe(FILE_SECRET);

    // Let the error paths repeat: the failed pull retries, the bad host heartbeats.
    await waitFor(
      async () =>
        logLines.filter((l) => l.includes('denied')).length >= 3 &&
        logLines.filter((l) => l.includes('bad-key')).length >= 3 &&
        // Enough lines that the search below means something; how many a run
        // writes before this point depends on timing, the retries keep adding.
        logLines.length > 50,
      { timeoutMs: 60_000, what: 'several reconciles of the failing objects in the logs' },
    );

    // Where a credential could end up.
    const eventsApi = cp.kubeConfig().makeApiClient(EventsV1Api);
    const events = (await eventsApi.listEventForAllNamespaces()).items.map((e) => JSON.stringify(e));
    const coreEvents = (await core.listEventForAllNamespaces()).items.map((e) => JSON.stringify(e));
    const { stdout: objects } = await run(cp.kubectlPath, [
      '--kubeconfig',
      cp.kubeconfigPath,
      'get',
      'dockerhosts,dockerimages,dockercontainers,dockernetworks,dockervolumes',
      '-A',
      '-o',
      'json',
    ]);
    const parsed = JSON.parse(objects) as { items: DockyardObject[] };
    expect(parsed.items.map((o) => o.metadata.name).sort()).toEqual(
      ['allowed', 'app', 'bad-key', 'denied', 'n1', 'secure'].sort(),
    );
    const address = world.dockyard.manager.metricsAddress();
    const metrics = await (await fetch(`http://127.0.0.1:${address?.port}/metrics`)).text();

    // The places searched are not empty: a search of nothing proves nothing.
    expect(logLines.length).toBeGreaterThan(50);
    expect(logLines.some((l) => l.includes('pulling image') && l.includes('denied'))).toBe(true);
    expect(events.length).toBeGreaterThan(3);
    expect(metrics).toContain('dockyard_');

    const leaks = [
      ...findLeaks(sentinels, 'a log line', logLines),
      ...findLeaks(sentinels, 'an Event', [...events, ...coreEvents]),
      ...findLeaks(
        sentinels,
        'a Dockyard object',
        parsed.items.map((o) => JSON.stringify(o)),
      ),
      ...findLeaks(sentinels, '/metrics', metrics.split('\n')),
    ];
    expect(leaks).toEqual([]);
  });
});
