import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { reuseConnections, tlsIdentity } from './kube-connection-reuse.js';

// Not a real CA/certificate: undici only parses TLS material when it connects,
// and these tests never connect.
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeConfig(opts: { ca?: string; exec?: boolean; tokenFile?: boolean } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: b64(opts.ca ?? 'ca-1') }],
    users: [
      opts.exec
        ? { name: 'u', exec: { command: 'true', apiVersion: 'client.authentication.k8s.io/v1' } }
        : opts.tokenFile
          ? { name: 'u', authProvider: { name: 'tokenFile', config: { tokenFile: '/dev/null' } } }
          : { name: 'u', certData: b64('cert'), keyData: b64('key') },
    ],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context.getDispatcher();
}

describe('reuseConnections', () => {
  it('client-node alone makes a new dispatcher (so a new TLS connection) per request', async () => {
    const kc = kubeConfig();
    const a = await dispatcherOf(kc);
    expect(a).toBeDefined();
    expect(await dispatcherOf(kc)).not.toBe(a);
  });

  it('reuses one dispatcher while the TLS inputs stay the same', async () => {
    const kc = reuseConnections(kubeConfig());
    const first = await dispatcherOf(kc);
    expect(first).toBeDefined();
    expect(await dispatcherOf(kc)).toBe(first);
    expect(await dispatcherOf(kc)).toBe(first);
  });

  it('reuses it in a pod too (token file: headers per request, same TLS)', async () => {
    const kc = reuseConnections(kubeConfig({ tokenFile: true }));
    const first = await dispatcherOf(kc);
    expect(await dispatcherOf(kc)).toBe(first);
  });

  it('starts a new one when the CA changes (a rotated file)', async () => {
    const kc = reuseConnections(kubeConfig({ ca: 'ca-1' }));
    const first = await dispatcherOf(kc);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no cluster');
    (cluster as { caData?: string }).caData = b64('ca-2');
    const second = await dispatcherOf(kc);
    expect(second).not.toBe(first);
    expect(await dispatcherOf(kc)).toBe(second);
  });
});

describe('tlsIdentity', () => {
  it('is stable for the same inputs and differs for another CA', () => {
    expect(tlsIdentity(kubeConfig())).toBe(tlsIdentity(kubeConfig()));
    expect(tlsIdentity(kubeConfig({ ca: 'other' }))).not.toBe(tlsIdentity(kubeConfig()));
  });

  it('leaves exec-plugin credentials to client-node (they may change per request)', () => {
    expect(tlsIdentity(kubeConfig({ exec: true }))).toBeUndefined();
  });
});
