// `dockyard agent` put together: credentials (enrol with the bootstrap token
// once, renew two thirds into each certificate's life), the tunnel to the
// controller, and the desired-state recorder with its local repair for the
// time the controller is away.
//
//   start ─▶ saved certificate for this host? ──no──▶ enrol (bootstrap token → certificate) ─┐
//              │ yes                                    (refused: log, read the bootstrap   │
//              ▼                                         again after a pause and retry)     │
//           tunnel (runTunnel) ◀────────────────────────────────────────────────────────────┘
//              ├─ every POST/DELETE ─▶ DesiredState.record / recordResponse ─▶ state file
//              ├─ disconnected ─▶ LocalRepair on (restores stopped or removed containers)
//              └─ connected    ─▶ LocalRepair off (the controller owns the host again)
//           renewal timer ─▶ renew with the current certificate; refused (revoked) ─▶ enrol again

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { createAgentKey } from './pki.js';
import { enroll, EnrolmentError, renew } from './enrolment.js';
import {
  describe,
  loadCredentials,
  renewAt,
  saveCredentials,
  type AgentCredentials,
} from './agent-identity-store.js';
import { readBootstrap, type Bootstrap } from './bootstrap.js';
import { DesiredState } from './desired-state.js';
import { LocalRepair } from './local-repair.js';
import { runTunnel, type TunnelAgent } from './tunnel-agent.js';
import { SILENT_LOG, type AgentLog } from './tunnel-http.js';

export interface AgentProcessOptions {
  /** A mounted bootstrap Secret (directory) or its `kubectl get secret -o json` file. */
  bootstrapPath: string;
  /** Keeps the key, the certificate and the last desired state (mode 0700). */
  stateDir: string;
  dockerSocketPath: string;
  version: string;
  /** Overrides the bootstrap's endpoint and server name (a different route to the same controller). */
  endpoint?: { host: string; port: number };
  serverName?: string;
  log?: AgentLog;
  /** Pause between refused enrolments (the admin may be rotating the Secret). Default 30 s. */
  retryMs?: number;
  /** How often the agent pings the controller; a ping unanswered this long means the path is dead. */
  livenessMs?: number;
}

/** How often a refused enrolment looks for a new bootstrap. */
const BOOTSTRAP_POLL_MS = 1_000;

/** Changes when the bootstrap file, or any file of a bootstrap directory, is replaced or rewritten. */
function bootstrapStamp(path: string): string {
  try {
    const stat = statSync(path);
    if (!stat.isDirectory()) return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
    // A mounted Secret swaps a symlinked ..data directory: look at the files through it.
    return readdirSync(path)
      .map((name) => {
        const file = statSync(join(path, name));
        return `${name}:${file.ino}:${file.mtimeMs}`;
      })
      .join(',');
  } catch {
    return 'missing';
  }
}

/** Failed dials in a row before the agent asks whether its certificate is still accepted. */
const DIALS_BEFORE_RECHECK = 3;

export interface AgentProcess {
  close(): Promise<void>;
  connected(): boolean;
  /** Containers restored while disconnected (for status and tests). */
  repairs(): number;
}

/** Starts the agent; resolves once it has credentials and dials (it keeps retrying meanwhile). */
export async function startAgent(options: AgentProcessOptions): Promise<AgentProcess> {
  const agent = new Agent(options);
  await agent.start();
  return agent;
}

class Agent implements AgentProcess {
  private readonly log: AgentLog;
  private readonly startedAt = new Date().toISOString();
  private credentials: AgentCredentials | undefined;
  private tunnel: TunnelAgent | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly desired: DesiredState;
  private readonly repair: LocalRepair;
  private closed = false;
  private failedDials = 0;
  private renewing = false;

  constructor(private readonly options: AgentProcessOptions) {
    this.log = options.log ?? SILENT_LOG;
    this.desired = new DesiredState({ stateDir: options.stateDir });
    this.repair = new LocalRepair({
      docker: new Dockerode({ socketPath: options.dockerSocketPath }),
      desired: this.desired,
      log: this.log,
    });
  }

  async start(): Promise<void> {
    // A missing or broken bootstrap stops here, before anything runs.
    const bootstrap = readBootstrap(this.options.bootstrapPath);
    await this.desired.load();
    // Until the tunnel is up, this box is on its own: keep what it was told.
    this.repair.setConnected(false);
    this.credentials = loadCredentials(this.options.stateDir, bootstrap.hostName) ?? (await this.enrol());
    if (this.closed) return;
    this.scheduleRenewal();
    this.tunnel = this.dial(bootstrap);
  }

  private dial(bootstrap: Bootstrap): TunnelAgent {
    return runTunnel({
      ...this.route(bootstrap),
      caPem: this.credentials?.caPem ?? bootstrap.caPem,
      credentials: () => ({ certPem: this.credentials!.certPem, keyPem: this.credentials!.keyPem }),
      dockerSocketPath: this.options.dockerSocketPath,
      ...(this.options.livenessMs ? { livenessMs: this.options.livenessMs } : {}),
      info: () => ({
        version: this.options.version,
        hostName: bootstrap.hostName,
        startedAt: this.startedAt,
      }),
      onState: ({ connected, error }) => {
        this.log.info({ connected, ...(error ? { error } : {}) }, connected ? 'tunnel up' : 'tunnel down');
        this.repair.setConnected(connected);
        this.failedDials = connected ? 0 : this.failedDials + 1;
        // A certificate the controller stopped accepting (revoked, rotated) fails every dial:
        // after a few, ask the enrolment API, which says so (401) and sends us back to enrol.
        if (this.failedDials === DIALS_BEFORE_RECHECK) void this.renewNow({ force: true });
      },
      onRequest: (request) => {
        this.desired.record(request);
      },
      onResponse: async (request, response) => {
        this.desired.recordResponse(request, response);
        // Saved (fsync'd) before the controller sees Docker's answer: a box that
        // loses power right after a start still restores what it was told to run.
        // save() writes only when something changed, in order.
        await this.desired
          .save()
          .catch((err: unknown) => this.log.warn({ err: String(err) }, 'saving desired state failed'));
      },
      log: this.log,
    });
  }

  /** Exchanges the bootstrap token for a certificate; retries a refusal after a pause, re-reading the bootstrap. */
  private async enrol(): Promise<AgentCredentials> {
    for (;;) {
      const bootstrap = readBootstrap(this.options.bootstrapPath);
      const { keyPem, csrPem } = await createAgentKey(bootstrap.hostName);
      try {
        const issued = await enroll({
          ...this.route(bootstrap),
          caPem: bootstrap.caPem,
          hostName: bootstrap.hostName,
          token: bootstrap.token,
          csrPem,
        });
        return this.keep({ certPem: issued.certPem, keyPem, caPem: issued.caPem }, bootstrap.hostName);
      } catch (err) {
        const reason = err instanceof EnrolmentError ? err.reason : 'Unreachable';
        this.log.warn({ reason, err: String(err) }, 'enrolment failed; retrying');
        await this.pauseUntilBootstrapChanges(this.options.retryMs ?? 30_000);
        if (this.closed) throw new Error('agent closed before it enrolled', { cause: err });
      }
    }
  }

  /** Where the controller is: the flags' override, else the bootstrap's. */
  private route(bootstrap: Bootstrap): { endpoint: { host: string; port: number }; serverName: string } {
    return {
      endpoint: this.options.endpoint ?? bootstrap.endpoint,
      serverName: this.options.serverName ?? bootstrap.serverName,
    };
  }

  private keep(pems: { certPem: string; keyPem: string; caPem: string }, hostName: string): AgentCredentials {
    const creds = describe(pems, hostName);
    if (!creds) throw new Error(`the controller issued a certificate that does not speak for ${hostName}`);
    saveCredentials(this.options.stateDir, pems);
    this.log.info({ host: hostName, notAfter: creds.notAfter.toISOString() }, 'certificate stored');
    return creds;
  }

  private scheduleRenewal(): void {
    if (!this.credentials || this.closed) return;
    const delay = Math.max(1_000, renewAt(this.credentials).getTime() - Date.now());
    // setTimeout holds at most 2^31-1 ms; a longer wait just wakes up early and reschedules.
    this.renewTimer = setTimeout(() => void this.renewNow(), Math.min(delay, 2 ** 31 - 1));
  }

  /** Renews with the current certificate; a refusal means it was revoked: enrol again with the bootstrap. */
  private async renewNow({ force = false }: { force?: boolean } = {}): Promise<void> {
    const current = this.credentials;
    if (!current || this.closed || this.renewing) return;
    if (!force && renewAt(current).getTime() > Date.now()) return this.scheduleRenewal();
    this.renewing = true;
    clearTimeout(this.renewTimer);
    try {
      this.credentials = await this.renewed(current);
      this.scheduleRenewal();
    } catch (err) {
      if (err instanceof EnrolmentError && err.status === 401) {
        this.log.warn(
          { reason: err.reason },
          'the controller no longer accepts this certificate: enrolling again',
        );
        this.credentials = await this.enrol().catch(() => current);
        this.scheduleRenewal();
      } else {
        this.log.warn({ err: String(err) }, 'certificate renewal failed; retrying in a minute');
        this.renewTimer = setTimeout(() => void this.renewNow({ force }), 60_000);
      }
    } finally {
      this.renewing = false;
    }
  }

  private async renewed(current: AgentCredentials): Promise<AgentCredentials> {
    const { keyPem, csrPem } = await createAgentKey(current.hostName);
    const bootstrap = readBootstrap(this.options.bootstrapPath);
    const issued = await renew({
      ...this.route(bootstrap),
      caPem: current.caPem,
      certPem: current.certPem,
      keyPem: current.keyPem,
      csrPem,
    });
    return this.keep({ certPem: issued.certPem, keyPem, caPem: issued.caPem }, current.hostName);
  }

  /**
   * Waits `ms`, or less once the bootstrap changes: an administrator copying a
   * new Secret onto the box gets an enrolment within a second, not at the next retry.
   */
  private async pauseUntilBootstrapChanges(ms: number): Promise<void> {
    const stamp = () => bootstrapStamp(this.options.bootstrapPath);
    const before = stamp();
    const until = Date.now() + ms;
    while (!this.closed && Date.now() < until && stamp() === before) {
      await new Promise((resolve) => {
        this.renewTimer = setTimeout(resolve, Math.min(BOOTSTRAP_POLL_MS, until - Date.now()));
      });
    }
  }

  connected(): boolean {
    return this.tunnel?.connected() ?? false;
  }

  repairs(): number {
    return this.repair.repairs();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.renewTimer);
    await this.tunnel?.close();
    await this.repair.close();
    await this.desired.save();
  }
}
