// The Dockyard agent CA: one key pair in a Secret of the controller's
// namespace, made by the first controller that needs it. Every replica that
// leads reads the same CA, so agents enrolled under one leader are trusted by
// the next; the controller's own serving certificate is issued from it at
// each start (nothing to rotate by hand).

import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { createCa, type KeyPairPem } from '../../../agent/pki.js';
import { isConflict, isNotFound } from '../../../runtime/api-errors.js';

export const AGENT_CA_SECRET = 'dockyard-agent-ca';
const CA_VALIDITY_DAYS = 3650;

function fromSecret(secret: V1Secret): KeyPairPem | undefined {
  const certPem = secret.data?.['tls.crt'];
  const keyPem = secret.data?.['tls.key'];
  if (!certPem || !keyPem) return undefined;
  return {
    certPem: Buffer.from(certPem, 'base64').toString('utf8'),
    keyPem: Buffer.from(keyPem, 'base64').toString('utf8'),
  };
}

/** Reads the CA, creating it when missing; of two controllers creating it at once, the first write wins. */
export async function loadOrCreateAgentCa(opts: {
  api: Pick<CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret'>;
  namespace: string;
}): Promise<KeyPairPem> {
  const { api, namespace } = opts;
  try {
    const found = fromSecret(await api.readNamespacedSecret({ name: AGENT_CA_SECRET, namespace }));
    if (!found) throw new Error(`Secret ${namespace}/${AGENT_CA_SECRET} lacks tls.crt or tls.key`);
    return found;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const ca = await createCa({ commonName: 'Dockyard agent CA', validityDays: CA_VALIDITY_DAYS });
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  try {
    await api.createNamespacedSecret({
      namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: {
          name: AGENT_CA_SECRET,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'dockyard' },
        },
        data: { 'tls.crt': b64(ca.certPem), 'tls.key': b64(ca.keyPem) },
      },
    });
    return ca;
  } catch (err) {
    if (!isConflict(err)) throw err;
    return loadOrCreateAgentCa(opts);
  }
}
