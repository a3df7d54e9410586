import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import { Reason, type EnvFailureReason } from '../../crds/reasons.js';
import { describeError, isNotFound, statusCodeOf } from '../../runtime/api-errors.js';

/** Reads Secrets and ConfigMaps of one namespace by name; undefined when there is none. */
export interface RefReader {
  secret(name: string): Promise<Record<string, string> | undefined>;
  configMap(name: string): Promise<Record<string, string> | undefined>;
  /** A Secret's data as bytes (files may be binary); without it, `secret` read as UTF-8. */
  secretBytes?(name: string): Promise<Record<string, Buffer> | undefined>;
  /**
   * A ConfigMap's `data` (UTF-8) and `binaryData` (base64-decoded) as bytes,
   * as a Kubernetes ConfigMap volume writes both; without it, `configMap`.
   */
  configMapBytes?(name: string): Promise<Record<string, Buffer> | undefined>;
}

export type EnvResolution =
  | {
      ok: true;
      /** Each name once, in order of first appearance, with the last value given. */
      env: Array<{ name: string; value: string }>;
      /** envFrom keys left out because they are not valid variable names (as Kubernetes does). */
      invalidNames: string[];
    }
  | { ok: false; reason: EnvFailureReason; message: string };

/** The names the CRD allows for variables; envFrom keys that do not fit are skipped. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

type Kind = 'Secret' | 'ConfigMap';

const notFound = (kind: Kind, message: string): EnvResolution => ({
  ok: false,
  reason: kind === 'Secret' ? Reason.SecretNotFound : Reason.ConfigMapNotFound,
  message,
});

/**
 * The container's environment with Kubernetes semantics: envFrom sources in
 * order, then env entries, a later name overriding an earlier one. A missing
 * Secret/ConfigMap or key fails the resolution unless the reference is
 * optional (then it is left out). Messages name objects and keys, never values.
 * Each object is read once per call.
 */
export async function resolveEnv(
  spec: Pick<DockerContainerSpec, 'env' | 'envFrom'>,
  reader: RefReader,
): Promise<EnvResolution> {
  const cache = new Map<string, Promise<Record<string, string> | undefined>>();
  const read = (kind: Kind, name: string) => {
    const key = `${kind}/${name}`;
    let p = cache.get(key);
    if (!p) {
      p = kind === 'Secret' ? reader.secret(name) : reader.configMap(name);
      cache.set(key, p);
    }
    return p;
  };

  const values = new Map<string, string>();
  const invalidNames: string[] = [];

  for (const source of spec.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    if (!ref) continue;
    const kind: Kind = source.secretRef ? 'Secret' : 'ConfigMap';
    const data = await read(kind, ref.name);
    if (data === undefined) {
      if (ref.optional) continue;
      return notFound(kind, `envFrom: ${kind} ${ref.name} not found`);
    }
    for (const key of Object.keys(data).sort()) {
      const name = `${source.prefix ?? ''}${key}`;
      if (!ENV_NAME.test(name)) {
        invalidNames.push(name);
        continue;
      }
      values.set(name, data[key] ?? ''); // a Map keeps the position of the first set
    }
  }

  const order: string[] = [...values.keys()];
  for (const e of spec.env ?? []) {
    const keyRef = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    let value: string;
    if (keyRef) {
      const kind: Kind = e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap';
      const data = await read(kind, keyRef.name);
      if (data === undefined) {
        if (keyRef.optional) continue;
        return notFound(kind, `env ${e.name}: ${kind} ${keyRef.name} not found`);
      }
      const found = data[keyRef.key];
      if (found === undefined) {
        if (keyRef.optional) continue;
        return notFound(kind, `env ${e.name}: key ${keyRef.key} not found in ${kind} ${keyRef.name}`);
      }
      value = found;
    } else {
      value = e.value ?? '';
    }
    if (!values.has(e.name)) order.push(e.name);
    values.set(e.name, value);
  }

  return {
    ok: true,
    env: order.map((name) => ({ name, value: values.get(name) ?? '' })),
    invalidNames,
  };
}

/** Names of the Secrets the spec reads, for mapping a Secret change to the containers using it. */
export function referencedSecrets(spec: DockerContainerSpec): string[] {
  const names = new Set<string>();
  for (const s of spec.envFrom ?? []) if (s.secretRef) names.add(s.secretRef.name);
  for (const e of spec.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
  for (const f of spec.files ?? []) if (f.secretKeyRef) names.add(f.secretKeyRef.name);
  return [...names].sort();
}

/** Names of the ConfigMaps the spec reads. */
export function referencedConfigMaps(spec: DockerContainerSpec): string[] {
  const names = new Set<string>();
  for (const s of spec.envFrom ?? []) if (s.configMapRef) names.add(s.configMapRef.name);
  for (const e of spec.env ?? [])
    if (e.valueFrom?.configMapKeyRef) names.add(e.valueFrom.configMapKeyRef.name);
  for (const f of spec.files ?? []) if (f.configMapKeyRef) names.add(f.configMapKeyRef.name);
  return [...names].sort();
}

/**
 * RefReader over the Kubernetes API: get by name in one namespace, never
 * list or watch (other tenants' Secrets stay out of the controller). Secret
 * data is base64-decoded as UTF-8; ConfigMap `data` is used as is
 * (`binaryData` is not environment material, as in Kubernetes; files read
 * it through configMapBytes).
 */
export class KubeRefReader implements RefReader {
  constructor(
    private readonly core: Pick<CoreV1Api, 'readNamespacedSecret' | 'readNamespacedConfigMap'>,
    private readonly namespace: string,
  ) {}

  async secret(name: string): Promise<Record<string, string> | undefined> {
    const bytes = await this.secretBytes(name);
    return bytes && Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, v.toString('utf8')]));
  }

  async secretBytes(name: string): Promise<Record<string, Buffer> | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ name, namespace: this.namespace });
      const out: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
      return out;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw refError('Secret', this.namespace, name, err);
    }
  }

  async configMap(name: string): Promise<Record<string, string> | undefined> {
    const cm = await this.readConfigMap(name);
    return cm && { ...(cm.data ?? {}) };
  }

  /** For files: both maps (the API server keeps their keys apart), binaryData decoded byte-exact. */
  async configMapBytes(name: string): Promise<Record<string, Buffer> | undefined> {
    const cm = await this.readConfigMap(name);
    if (!cm) return undefined;
    const out: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v, 'utf8');
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
    return out;
  }

  private async readConfigMap(name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name, namespace: this.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw refError('ConfigMap', this.namespace, name, err);
    }
  }
}

/** Names what could not be read and why (e.g. 403: the controller's RBAC), never its content. */
function refError(kind: 'Secret' | 'ConfigMap', namespace: string, name: string, err: unknown): Error {
  const code = statusCodeOf(err);
  const why =
    code === 403
      ? 'forbidden: the controller may not get it (RBAC)'
      : code !== undefined
        ? `HTTP ${code}`
        : describeError(err);
  return new Error(`reading ${kind} ${namespace}/${name}: ${why}`, { cause: err });
}
