import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';

export interface KeyPair {
  certPath: string;
  keyPath: string;
}

export interface CertRequest {
  /** File base name inside the directory: NAME.crt and NAME.key. */
  name: string;
  commonName: string;
  organization?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'both';
  days?: number;
}

/** `openssl req` arguments for a new unencrypted key at `keyPath`: EC P-256, which keeps generation fast. */
function newKeyArgs(keyPath: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath];
}

/** A test CA made with the openssl command (present on every Debian machine). */
export async function createCA(dir: string, commonName: string, name = 'ca'): Promise<KeyPair> {
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  await run('openssl', [
    'req',
    '-x509',
    ...newKeyArgs(keyPath),
    '-out',
    certPath,
    '-days',
    '3650',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { certPath, keyPath };
}

/** A certificate signed by `ca` for `req`, with its own new key. */
export async function createCert(dir: string, ca: KeyPair, req: CertRequest): Promise<KeyPair> {
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, `${req.name}.key`);
  const csrPath = join(dir, `${req.name}.csr`);
  const certPath = join(dir, `${req.name}.crt`);
  const extPath = join(dir, `${req.name}.ext`);
  const subject = `/CN=${req.commonName}` + (req.organization ? `/O=${req.organization}` : '');
  await run('openssl', ['req', '-new', ...newKeyArgs(keyPath), '-out', csrPath, '-subj', subject]);
  const eku = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[req.usage];
  const sans = [
    ...(req.dnsNames ?? []).map((d) => `DNS:${d}`),
    ...(req.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${eku}`,
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
  ];
  writeFileSync(extPath, ext.join('\n') + '\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csrPath,
    '-CA',
    ca.certPath,
    '-CAkey',
    ca.keyPath,
    '-CAcreateserial',
    '-out',
    certPath,
    '-days',
    String(req.days ?? 3650),
    '-extfile',
    extPath,
  ]);
  return { certPath, keyPath };
}
