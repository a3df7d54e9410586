// The agent's own credentials on disk: its private key (made on the box,
// never sent anywhere), the certificate the controller signed and the CA that
// signed it, in the state directory with mode 0600. Kept so a restarted agent
// reconnects without a new bootstrap token.

import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentIdentity } from './protocol.js';

export interface AgentCredentials {
  hostName: string;
  certPem: string;
  keyPem: string;
  caPem: string;
  notBefore: Date;
  notAfter: Date;
}

const FILES = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

function writePrivate(path: string, text: string): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, path);
}

/** Reads the saved credentials; undefined when absent, unreadable, or for another host. */
export function loadCredentials(stateDir: string, hostName: string): AgentCredentials | undefined {
  try {
    const certPem = readFileSync(join(stateDir, FILES.cert), 'utf8');
    const keyPem = readFileSync(join(stateDir, FILES.key), 'utf8');
    const caPem = readFileSync(join(stateDir, FILES.ca), 'utf8');
    return describe({ certPem, keyPem, caPem }, hostName);
  } catch {
    return undefined;
  }
}

/** The certificate's facts, checked to speak for `hostName`. */
export function describe(
  pems: { certPem: string; keyPem: string; caPem: string },
  hostName: string,
): AgentCredentials | undefined {
  const cert = new X509Certificate(pems.certPem);
  if (agentIdentity(cert)?.hostName !== hostName) return undefined;
  return { ...pems, hostName, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** Saves new credentials: key first, so a crash in between leaves a key that matches no saved cert (re-enrol). */
export function saveCredentials(
  stateDir: string,
  creds: { certPem: string; keyPem: string; caPem: string },
): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writePrivate(join(stateDir, FILES.key), creds.keyPem);
  writePrivate(join(stateDir, FILES.ca), creds.caPem);
  writePrivate(join(stateDir, FILES.cert), creds.certPem);
}

/** When to renew: two thirds into the certificate's life, as kubelet rotates its client certificate. */
export function renewAt(creds: Pick<AgentCredentials, 'notBefore' | 'notAfter'>): Date {
  const life = creds.notAfter.getTime() - creds.notBefore.getTime();
  return new Date(creds.notBefore.getTime() + (life * 2) / 3);
}
