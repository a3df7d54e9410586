// The agents' credentials, kept in bootstrap Secrets (credential-secret.ts
// says what each holds). Reads for authorization come from an informer over
// the controller namespace's bootstrap Secrets (label-selected), because the
// tunnel asks on every heartbeat of every agent: a GET each time would cost
// the API server a request per host per heartbeat. Writes (a new Secret, a
// token marked used, a certificate listed) go to the API server with the
// resourceVersion read, so two enrolments racing for one token cannot both win.

import { CoreV1Api, Watch, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { CredentialStore, TokenRefusal } from '../../../agent/enrolment.js';
import { EnrolmentRefusal, type AgentIdentity } from '../../../agent/protocol.js';
import type { DockerHost } from '../../../crds/dockerhost.js';
import { isConflict, isNotFound } from '../../../runtime/api-errors.js';
import type { Informer } from '../../../runtime/informer.js';
import { KubeListWatcher, resourcePath } from '../../../runtime/kube-list-watcher.js';
import {
  ANNOTATION,
  certificateAuthorized,
  checkToken,
  credentialSecretName,
  CREDENTIALS_LABEL,
  newCredentialSecret,
  parseCredentialSecret,
  withIssued,
} from './credential-secret.js';

export type SecretsApi = Pick<
  CoreV1Api,
  'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret'
>;

/** list/watch of the bootstrap Secrets in one namespace, for an informer. */
export function credentialSecretListWatcher(kc: KubeConfig, namespace: string): KubeListWatcher<V1Secret> {
  const core = kc.makeApiClient(CoreV1Api);
  return new KubeListWatcher<V1Secret>({
    path: resourcePath({ group: '', version: 'v1', plural: 'secrets', namespace }),
    listPage: (o) =>
      core.listNamespacedSecret({
        namespace,
        limit: o.limit,
        ...(o.continueToken ? { _continue: o.continueToken } : {}),
        ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
      }),
    watch: new Watch(kc),
    apiVersion: 'v1',
    kind: 'Secret',
    labelSelector: `${CREDENTIALS_LABEL}=true`,
  });
}

export interface AgentCredentialStoreOptions {
  namespace: string;
  api: SecretsApi;
  secrets: Pick<Informer<V1Secret>, 'getByName'>;
  /** The DockerHost cache: a deleted host, or one no longer on an agent, authorizes nothing. */
  hosts: Pick<Informer<DockerHost>, 'getByName'>;
  caPem: string;
  /** host:port agents dial, and the name they check the controller's certificate against. */
  advertise: string;
  serverName: string;
  tokenTtlMs: number;
  now?: () => Date;
}

/** What a DockerHost's status shows of its credentials. */
export interface CredentialsSummary {
  secret: string;
  certificateNotAfter?: string;
}

export class AgentCredentialStore implements CredentialStore {
  private readonly now: () => Date;

  constructor(private readonly options: AgentCredentialStoreOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Makes sure the host has a bootstrap Secret for its current
   * credentialGeneration: creates a missing one (a deleted Secret is a
   * rotation), replaces one of another generation. Called every heartbeat.
   */
  async ensure(host: DockerHost): Promise<CredentialsSummary> {
    const { namespace } = this.options;
    const hostName = host.metadata.name;
    const name = credentialSecretName(hostName);
    const generation = host.spec.agent?.credentialGeneration ?? 0;
    const cached = this.options.secrets.getByName(name, namespace);
    const state = cached ? parseCredentialSecret(cached) : undefined;
    const summary = { secret: `${namespace}/${name}` };
    if (state && state.hostName === hostName && state.generation === generation) {
      const last = state.certificates.at(-1);
      return last ? { ...summary, certificateNotAfter: last.notAfter } : summary;
    }
    const fresh = newCredentialSecret({
      namespace,
      hostName,
      hostUid: host.metadata.uid ?? '',
      generation,
      caPem: this.options.caPem,
      advertise: this.options.advertise,
      serverName: this.options.serverName,
      tokenTtlMs: this.options.tokenTtlMs,
      now: this.now(),
    });
    await this.write(name, fresh);
    return summary;
  }

  /** Creates or replaces the Secret; the informer may lag, so the API server decides which. */
  private async write(name: string, fresh: V1Secret): Promise<void> {
    const { namespace, api } = this.options;
    try {
      await api.createNamespacedSecret({ namespace, body: fresh });
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const current = await api.readNamespacedSecret({ name, namespace });
    const state = parseCredentialSecret(current);
    const wanted = fresh.metadata?.annotations?.[ANNOTATION.generation];
    // Another writer (a previous leader, a racing reconcile) made it already.
    if (
      state &&
      String(state.generation) === wanted &&
      state.hostName === fresh.metadata?.annotations?.[ANNOTATION.hostName]
    )
      return;
    await api.replaceNamespacedSecret({
      name,
      namespace,
      body: { ...fresh, metadata: { ...fresh.metadata, resourceVersion: current.metadata?.resourceVersion } },
    });
  }

  async redeemToken(
    hostName: string,
    token: string,
  ): Promise<{ ok: true } | { ok: false; reason: TokenRefusal; message: string }> {
    const host = this.options.hosts.getByName(hostName);
    if (!host?.spec.agent)
      return {
        ok: false,
        reason: EnrolmentRefusal.UnknownHost,
        message: `no DockerHost ${hostName} connects through an agent`,
      };
    const { namespace, api } = this.options;
    const name = credentialSecretName(hostName);
    let secret: V1Secret;
    try {
      secret = await api.readNamespacedSecret({ name, namespace });
    } catch (err) {
      if (isNotFound(err))
        return {
          ok: false,
          reason: EnrolmentRefusal.TokenInvalid,
          message: `${hostName} has no bootstrap Secret (yet)`,
        };
      throw err;
    }
    const state = parseCredentialSecret(secret);
    if (!state || state.hostName !== hostName)
      return {
        ok: false,
        reason: EnrolmentRefusal.TokenInvalid,
        message: `the bootstrap Secret of ${hostName} is not readable`,
      };
    const verdict = checkToken(state, token, this.now());
    if (!verdict.ok) return verdict;
    const annotations = {
      ...secret.metadata?.annotations,
      [ANNOTATION.tokenUsedAt]: this.now().toISOString(),
    };
    try {
      // The resourceVersion read above: of two enrolments with one token, only one write lands.
      await api.replaceNamespacedSecret({
        name,
        namespace,
        body: { ...secret, metadata: { ...secret.metadata, annotations } },
      });
    } catch (err) {
      if (isConflict(err))
        return {
          ok: false,
          reason: EnrolmentRefusal.TokenUsed,
          message: `the token for ${hostName} was used concurrently`,
        };
      throw err;
    }
    return { ok: true };
  }

  isAuthorized(identity: AgentIdentity): Promise<boolean> {
    const host = this.options.hosts.getByName(identity.hostName);
    if (!host?.spec.agent || host.metadata.deletionTimestamp) return Promise.resolve(false);
    const cached = this.options.secrets.getByName(
      credentialSecretName(identity.hostName),
      this.options.namespace,
    );
    const state = cached ? parseCredentialSecret(cached) : undefined;
    return Promise.resolve(certificateAuthorized(state, identity, this.now()));
  }

  /** Lists a new certificate; retried on a conflict (a renewal racing an enrolment's write). */
  async recordIssued(hostName: string, issued: { serial: string; notAfter: Date }): Promise<void> {
    const { namespace, api } = this.options;
    const name = credentialSecretName(hostName);
    for (let attempt = 0; ; attempt++) {
      const secret = await api.readNamespacedSecret({ name, namespace });
      const state = parseCredentialSecret(secret);
      if (!state) throw new Error(`the bootstrap Secret of ${hostName} is not readable`);
      const certificates = withIssued(
        state.certificates,
        { serial: issued.serial, notAfter: issued.notAfter.toISOString() },
        this.now(),
      );
      const annotations = {
        ...secret.metadata?.annotations,
        [ANNOTATION.certificates]: JSON.stringify(certificates),
      };
      try {
        await api.replaceNamespacedSecret({
          name,
          namespace,
          body: { ...secret, metadata: { ...secret.metadata, annotations } },
        });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 3) throw err;
      }
    }
  }
}
