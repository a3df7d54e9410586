// What the administrator hands to the box: the DockerHost's bootstrap Secret,
// either mounted as a directory (one file per key, as Kubernetes mounts a
// Secret into the agent's container) or saved with
// `kubectl get secret dockyard-agent-<host> -o json > bootstrap.json`
// (base64 values under .data) for a systemd host. Read afresh before each
// enrolment, so a rotated Secret copied over the old one is picked up.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Bootstrap {
  hostName: string;
  token: string;
  caPem: string;
  endpoint: { host: string; port: number };
  serverName: string;
}

const KEYS = ['host-name', 'token', 'ca.crt', 'endpoint', 'server-name'] as const;
type Key = (typeof KEYS)[number];

export class BootstrapError extends Error {}

function fromDirectory(dir: string): Record<Key, string> {
  const read = (key: Key) => {
    try {
      return readFileSync(join(dir, key), 'utf8').trim();
    } catch {
      throw new BootstrapError(`${dir}: no ${key} (mount the whole bootstrap Secret here)`);
    }
  };
  return Object.fromEntries(KEYS.map((key) => [key, read(key)])) as Record<Key, string>;
}

function fromSecretJson(file: string): Record<Key, string> {
  let secret: { data?: Record<string, unknown>; stringData?: Record<string, unknown> };
  try {
    secret = JSON.parse(readFileSync(file, 'utf8')) as typeof secret;
  } catch (err) {
    throw new BootstrapError(
      `${file}: not a Secret in JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const value = (key: Key) => {
    const data = secret.data?.[key];
    if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8').trim();
    const plain = secret.stringData?.[key];
    if (typeof plain === 'string') return plain.trim();
    throw new BootstrapError(`${file}: the Secret has no ${key}`);
  };
  return Object.fromEntries(KEYS.map((key) => [key, value(key)])) as Record<Key, string>;
}

/** host:port, [v6]:port. */
export function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535)
    throw new BootstrapError(`endpoint ${JSON.stringify(value)}: want host:port`);
  return { host: (match[1] ?? match[2])!, port };
}

/** Reads a bootstrap directory or JSON file. Throws BootstrapError naming what is missing. */
export function readBootstrap(path: string): Bootstrap {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new BootstrapError(`${path}: no such file or directory`);
  }
  const values = isDir ? fromDirectory(path) : fromSecretJson(path);
  return {
    hostName: values['host-name'],
    token: values.token,
    caPem: values['ca.crt'],
    endpoint: parseHostPort(values.endpoint),
    serverName: values['server-name'],
  };
}
