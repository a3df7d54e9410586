import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadCredentials, renewAt, saveCredentials } from './agent-identity-store.js';
import { createAgentKey, createCa, signAgentCsr } from './pki.js';

async function issued(hostName: string) {
  const ca = await createCa({ commonName: 'test CA', validityDays: 1 });
  const key = await createAgentKey(hostName);
  const cert = await signAgentCsr({ ca, csrPem: key.csrPem, hostName, validitySeconds: 3600 });
  return { certPem: cert.certPem, keyPem: key.keyPem, caPem: ca.certPem };
}

describe('agent credentials on disk', () => {
  it('saves them private (0600 files in a 0700 directory) and loads them for their host only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-state-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'state');
    const pems = await issued('edge-1');
    saveCredentials(dir, pems);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of ['tls.key', 'tls.crt', 'ca.crt'])
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    const loaded = loadCredentials(dir, 'edge-1');
    expect(loaded).toMatchObject({ hostName: 'edge-1', ...pems });
    expect(loadCredentials(dir, 'edge-2')).toBeUndefined();
    expect(loadCredentials(join(dir, 'missing'), 'edge-1')).toBeUndefined();
  });

  it('renews two thirds into the certificate life', () => {
    const notBefore = new Date('2026-12-05T00:00:00Z');
    const notAfter = new Date('2026-12-06T00:00:00Z');
    expect(renewAt({ notBefore, notAfter }).toISOString()).toBe('2026-12-05T16:00:00.000Z');
  });
});
