import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { TlsMaterial } from '../../docker/endpoint.js';
import { Reason } from '../../crds/reasons.js';
import { HostConfigError } from '../../docker/errors.js';
import { isNotFound } from '../../runtime/api-errors.js';

export interface SecretRef {
  namespace: string;
  name: string;
}

/** A TLS Secret that is missing or incomplete: the host cannot be reached until it is fixed. */
export class TlsSecretError extends HostConfigError {
  constructor(
    message: string,
    readonly reason: typeof Reason.SecretNotFound | typeof Reason.ConfigError,
  ) {
    super(message);
  }
}

/** Pure: the PEM material of a Secret with ca.crt, tls.crt and tls.key. */
export function tlsFromSecret(secret: V1Secret, ref: SecretRef, serverName?: string): TlsMaterial {
  const data = secret.data ?? {};
  const missing = ['ca.crt', 'tls.crt', 'tls.key'].filter((k) => !data[k]);
  if (missing.length > 0) {
    throw new TlsSecretError(
      `Secret ${ref.namespace}/${ref.name} lacks ${missing.join(', ')}`,
      Reason.ConfigError,
    );
  }
  const decode = (k: string) => Buffer.from(data[k] as string, 'base64').toString('utf8');
  return {
    ca: decode('ca.crt'),
    cert: decode('tls.crt'),
    key: decode('tls.key'),
    ...(serverName ? { serverName } : {}),
  };
}

/**
 * Reads the TLS Secret by name. Get-by-name (no list or watch of Secrets)
 * keeps other tenants' Secrets out of the controller; a change is picked up
 * at the next heartbeat, when the connection is rebuilt if the material differs.
 */
export async function readTlsSecret(
  core: Pick<CoreV1Api, 'readNamespacedSecret'>,
  ref: SecretRef,
  serverName?: string,
): Promise<TlsMaterial> {
  let secret: V1Secret;
  try {
    secret = await core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace });
  } catch (err) {
    if (isNotFound(err))
      throw new TlsSecretError(`Secret ${ref.namespace}/${ref.name} not found`, Reason.SecretNotFound);
    throw err;
  }
  return tlsFromSecret(secret, ref, serverName);
}
