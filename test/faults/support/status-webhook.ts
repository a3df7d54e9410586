// A real validating admission webhook, served by the test over HTTPS and
// registered with the real kube-apiserver for the /status subresources of
// every dockyard.io kind. It rejects the FIRST status write it sees for each
// object with HTTP 409 (a Conflict, as a stale resourceVersion or a racing
// writer would cause) and allows every later one, counting both, so a test
// can prove the faults were actually injected.

import { createServer, type Server } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { ALL_KINDS } from '../../../src/crds/index.js';
import type { ControlPlane } from '../../../src/localenv/control-plane.js';
import { createCA, createCert } from '../../../src/localenv/tls.js';

interface AdmissionRequest {
  uid: string;
  kind: { kind: string };
  namespace?: string;
  name: string;
  subResource?: string;
  operation: string;
}

export interface StatusConflictWebhook {
  /** `Kind namespace/name` (namespace empty for cluster-scoped) → rejected / allowed status writes. */
  readonly rejected: Map<string, number>;
  readonly allowed: Map<string, number>;
  stop(): Promise<void>;
}

export const objectKey = (kind: string, namespace: string | undefined, name: string) =>
  `${kind} ${namespace ?? ''}/${name}`;

const CONFIG_NAME = 'dockyard-faults-status-conflict';

export async function startStatusConflictWebhook(cp: ControlPlane): Promise<StatusConflictWebhook> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-webhook-'));
  const ca = await createCA(dir, 'dockyard-faults-webhook-ca');
  const cert = await createCert(dir, ca, {
    name: 'webhook',
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const rejected = new Map<string, number>();
  const allowed = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  const server: Server = createServer(
    { cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let review: { request?: AdmissionRequest };
        try {
          review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: AdmissionRequest };
        } catch {
          res.writeHead(400).end();
          return;
        }
        const r = review.request;
        if (!r) {
          res.writeHead(400).end();
          return;
        }
        const key = objectKey(r.kind.kind, r.namespace, r.name);
        const first = r.subResource === 'status' && !rejected.has(key);
        bump(first ? rejected : allowed, key);
        const response = first
          ? {
              uid: r.uid,
              allowed: false,
              status: {
                code: 409,
                reason: 'Conflict',
                message: `fault injection: first status write of ${key} rejected`,
              },
            }
          : { uid: r.uid, allowed: true };
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const admission = cp.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
  await admission.createValidatingWebhookConfiguration({
    body: {
      metadata: { name: CONFIG_NAME },
      webhooks: [
        {
          name: 'status-conflict.faults.dockyard.io',
          clientConfig: {
            url: `https://127.0.0.1:${port}/validate`,
            caBundle: readFileSync(ca.certPath).toString('base64'),
          },
          rules: [
            {
              apiGroups: ['dockyard.io'],
              apiVersions: ['v1alpha1'],
              operations: ['UPDATE'],
              resources: ALL_KINDS.map((k) => `${k.plural}/status`),
              scope: '*',
            },
          ],
          // Fail closed: a webhook the API server cannot reach would otherwise let writes through unseen.
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          timeoutSeconds: 10,
        },
      ],
    },
  });

  return {
    rejected,
    allowed,
    stop: async () => {
      try {
        await admission.deleteValidatingWebhookConfiguration({ name: CONFIG_NAME });
      } catch {
        // the control plane may be gone already
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
