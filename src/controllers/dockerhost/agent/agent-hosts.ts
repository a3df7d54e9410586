// The controller's side of the edge agents, put together: the CA, the one TLS
// port (enrolment and tunnels, told apart by ALPN), the tunnel hub with a
// local Docker socket per agent host, and the bootstrap Secrets. Unsharded it
// runs only while this replica leads (a LeaderRunnable): agents of a
// follower's Service endpoint are refused and retry with backoff until they
// reach the leader. Sharded (--shards) it runs on every replica, and each
// admits the tunnels of its own shards' hosts only (`owns`): an agent that
// reaches another replica is refused and redials until the Service sends it
// to the right one; a tunnel whose shard moves away is dropped at the next
// heartbeat's authorize, or at once when the DockerHost controller lets the
// host go.
//
//   DockerHost reconcile ──prepare(host)──▶ AgentHosts ──▶ bootstrap Secret (ensure)
//                                             │          └▶ TunnelHub.ensureHost → unix://<dir>/<host>.sock
//   dockerode ──unix socket──▶ TunnelHub ══ HTTP/2 stream per request ══▶ agent ──▶ its dockerd
//   agent ──TLS (ALPN)──▶ AgentEndpointServer ─┬─ http/1.1: enrolment (token → certificate)
//                                              └─ dockyard-agent/1: tunnel → TunnelHub.attach

import { mkdirSync } from 'node:fs';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createAgentMetrics } from './agent-metrics.js';
import { createEnrolmentHandler } from '../../../agent/enrolment.js';
import { AgentEndpointServer } from '../../../agent/endpoint-server.js';
import { issueServerCertificate, type KeyPairPem } from '../../../agent/pki.js';
import { TunnelHub, type AgentConnectionState } from '../../../agent/tunnel-hub.js';
import type { AgentStatus, DockerHost } from '../../../crds/dockerhost.js';
import type { LeaderRunnable } from '../../../runtime/manager.js';
import type { AgentEndpointSettings } from '../../../managed/controller-deps.js';
import { formatTime } from '../../../runtime/conditions.js';
import { loadOrCreateAgentCa } from './agent-ca.js';
import type { AgentHostsPort, AgentHostView } from './agent-hosts-port.js';
import { AgentCredentialStore, type AgentCredentialStoreOptions } from './credential-store.js';

export interface AgentHostsOptions {
  settings: AgentEndpointSettings;
  api: Pick<CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret'>;
  secrets: AgentCredentialStoreOptions['secrets'];
  hosts: AgentCredentialStoreOptions['hosts'];
  /** A host's tunnel came or went: reconcile it now. Must only enqueue. */
  onHostChange: (hostName: string) => void;
  /** Sharded: does this replica hold the host's shard? Absent: every host (the leader serves all). */
  owns?: (hostName: string) => boolean;
  logger: Logger;
}

const SERVER_CERT_VALIDITY_DAYS = 365;
const DEFAULT_HEARTBEAT_MS = 10_000;

/** What is built once leading: the store needs the CA, the endpoint its certificate. */
interface Running {
  store: AgentCredentialStore;
  endpoint: AgentEndpointServer;
}

export class AgentHosts implements AgentHostsPort, LeaderRunnable {
  readonly name = 'agent-endpoint';
  private readonly hub: TunnelHub;
  private running: Promise<Running> | undefined;
  private stopped = false;
  /** Hosts prepared since start, for the metrics. */
  private readonly known = new Set<string>();

  constructor(private readonly options: AgentHostsOptions) {
    mkdirSync(options.settings.socketDir, { recursive: true, mode: 0o700 });
    this.hub = new TunnelHub({
      socketDir: options.settings.socketDir,
      heartbeatMs: (hostName) => {
        const seconds = options.hosts.getByName(hostName)?.spec.heartbeatIntervalSeconds;
        return seconds ? seconds * 1000 : DEFAULT_HEARTBEAT_MS;
      },
      authorize: (identity) => this.authorize(identity),
      onChange: options.onHostChange,
      log: options.logger.child({ component: 'agent-hub' }),
    });
  }

  start(): Promise<void> {
    this.running ??= this.build();
    return this.running.then(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const running = await this.running?.catch(() => undefined);
    await running?.endpoint.close();
    await this.hub.close();
  }

  private async build(): Promise<Running> {
    const { settings, api, logger } = this.options;
    const ca = await loadOrCreateAgentCa({ api, namespace: settings.namespace });
    const serving = await issueServerCertificate({
      ca,
      names: settings.serverNames,
      validityDays: SERVER_CERT_VALIDITY_DAYS,
    });
    const store = new AgentCredentialStore({
      namespace: settings.namespace,
      api,
      secrets: this.options.secrets,
      hosts: this.options.hosts,
      caPem: ca.certPem,
      advertise: settings.advertise,
      serverName: settings.serverNames[0] ?? '',
      tokenTtlMs: settings.tokenTtlMs,
    });
    const log = logger.child({ component: 'agent-endpoint' });
    const endpoint = new AgentEndpointServer({
      listen: settings.bind,
      tls: () => ({ certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem }),
      enrolment: createEnrolmentHandler({
        store,
        ca: () => Promise.resolve<KeyPairPem>(ca),
        certValiditySeconds: settings.certValiditySeconds,
        log: (msg, fields) => log.info(fields, msg),
      }),
      authorize: (identity) => store.isAuthorized(identity),
      ...(this.options.owns ? { serves: this.options.owns } : {}),
      onTunnel: (identity, socket) => this.hub.attach(identity, socket),
      log,
    });
    await endpoint.start();
    return { store, endpoint };
  }

  /** The hub asks at every heartbeat: still allowed, and (sharded) still this replica's host? */
  private async authorize(identity: Parameters<AgentCredentialStore['isAuthorized']>[0]): Promise<boolean> {
    if (this.options.owns && !this.options.owns(identity.hostName)) return false;
    const running = await this.running;
    return running ? running.store.isAuthorized(identity) : false;
  }

  async prepare(host: DockerHost): Promise<AgentHostView> {
    // Only the leader (sharded: a shard's holder) reconciles DockerHosts, so the first one to ask starts the endpoint.
    this.running ??= this.build();
    const running = await this.running;
    const credentials = await running.store.ensure(host);
    const path = await this.hub.ensureHost(host.metadata.name);
    this.known.add(host.metadata.name);
    const state = this.hub.state(host.metadata.name);
    return {
      endpoint: `unix://${path}`,
      connected: state?.connected ?? false,
      status: agentStatus(state, credentials),
    };
  }

  forget(hostName: string): void {
    void this.hub.removeHost(hostName);
    this.known.delete(hostName);
  }

  /** Per-host gauges read from the hub at scrape time, so they never lag the tunnels. */
  registerMetrics(registry: Registry): void {
    createAgentMetrics(registry, () =>
      [...this.known].flatMap((host) => {
        const state = this.hub.state(host);
        return state ? [{ host, state }] : [];
      }),
    );
  }
}

/** status.agent from the hub's view of the tunnel and the host's credentials. */
export function agentStatus(
  state: AgentConnectionState | undefined,
  credentials: { secret: string; certificateNotAfter?: string },
): AgentStatus {
  const status: AgentStatus = { credentialsSecret: credentials.secret, connected: state?.connected ?? false };
  if (credentials.certificateNotAfter) status.certificateNotAfter = credentials.certificateNotAfter;
  if (!state) return status;
  if (state.version) status.version = state.version;
  if (state.connectedSince) status.connectedSince = formatTime(state.connectedSince);
  if (state.lastSeen) status.lastSeenTime = formatTime(state.lastSeen);
  status.reconnects = state.reconnects;
  if (state.rttMs !== undefined) status.roundTripMilliseconds = Math.round(state.rttMs);
  return status;
}
