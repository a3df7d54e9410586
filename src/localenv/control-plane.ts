import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { ensureControlPlaneBinaries, type ControlPlaneBinaries } from './controlplane-binaries.js';
import { run } from './exec.js';
import { freePort, startProcess, waitFor, type ManagedProcess, type ProcessSpec } from './process.js';
import { createCA, createCert, type KeyPair } from './tls.js';

export interface ControlPlaneOptions {
  /**
   * Holds etcd data, certificates, kubeconfigs and logs. Given: kept by stop()
   * and reused by the next start (dev mode keeps its objects across restarts).
   * Omitted: a fresh temporary folder that stop() removes.
   */
  dataDir?: string;
  log?: (msg: string) => void;
  /**
   * kube-apiserver's watch cache. Off by default so that watches are served by
   * etcd itself and compactEtcd() really makes watches from older
   * resourceVersions fail with 410 Gone, the way a controller meets it after a
   * long disconnect. With the cache on, watches are answered from the cache's
   * in-memory history, which etcd compaction does not touch.
   */
  watchCache?: boolean;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
}

interface Pki {
  ca: KeyPair;
  apiServer: KeyPair;
  admin: KeyPair;
  /** Client certificate of user system:kube-controller-manager, also its serving certificate. */
  controllerManager: KeyPair;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/** The cluster's name in generated kubeconfigs. */
const CLUSTER_NAME = 'dockyard-local';
const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SERVING_DNS_NAMES = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];
/** 10.0.0.1 is the ClusterIP of the `kubernetes` Service in SERVICE_CLUSTER_IP_RANGE. */
const SERVING_IPS = ['127.0.0.1', '10.0.0.1'];
const ETCD_READY_TIMEOUT_MS = 30_000;
const API_SERVER_READY_TIMEOUT_MS = 90_000;
/** Starts tried on fresh ports when one was taken between choosing and binding it. */
const PORT_ATTEMPTS = 3;

/** Whether a start failed because its port was taken (the process log's tail is in the message). */
export function portWasTaken(err: unknown): boolean {
  return err instanceof Error && /address already in use/.test(err.message);
}
const CONTROLLER_MANAGER_READY_TIMEOUT_MS = 60_000;
const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
/**
 * The kube-controller-manager controllers a cluster needs for the objects we
 * use: namespace deletion that finishes (namespace), ownerReference cascading
 * deletion (garbage-collector), and what every namespace of a real cluster has:
 * a `default` ServiceAccount (serviceaccount), the `kube-root-ca.crt`
 * ConfigMap (root-ca-certificate-publisher) and filled-in legacy token Secrets
 * (serviceaccount-token). Workload controllers (Deployments, Jobs, …) are left
 * out: nothing here runs Pods, and each would add informers to every start.
 */
const CONTROLLERS = [
  'namespace-controller',
  'garbage-collector-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
];
/** The controllers start() waits for; the others are conveniences. */
const AWAITED_CONTROLLERS = ['namespace-controller', 'garbage-collector-controller'];
const LOG_TAIL_LINES = 40;

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver and
 * kube-controller-manager built from the pinned module (see
 * controlplane-binaries.ts), TLS with a generated CA, client-certificate
 * authentication, RBAC and ServiceAccount tokens. kube-controller-manager runs
 * the controllers in CONTROLLERS, so a deleted namespace goes away with its
 * contents and ownerReferences cascade, as in a real cluster.
 *
 * What it is not: there is no scheduler or kubelet, and no workload
 * controllers, so nothing runs Pods.
 */
export class ControlPlane {
  readonly dataDir: string;
  private readonly ownsDataDir: boolean;
  private readonly log: (msg: string) => void;
  private readonly watchCache: boolean;
  private bins: ControlPlaneBinaries | undefined;
  private ports: Ports | undefined;
  private pki: Pki | undefined;
  private etcdProcess: ManagedProcess | undefined;
  private apiServerProcess: ManagedProcess | undefined;
  private controllerManagerProcess: ManagedProcess | undefined;
  private removed = false;

  constructor(opts: ControlPlaneOptions = {}) {
    this.ownsDataDir = opts.dataDir === undefined;
    this.dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'dockyard-cp-'));
    mkdirSync(this.dataDir, { recursive: true });
    this.log = opts.log ?? (() => {});
    this.watchCache = opts.watchCache ?? false;
  }

  /** Admin kubeconfig (client certificate in group system:masters), written by start(). */
  get kubeconfigPath(): string {
    return join(this.dataDir, 'admin.kubeconfig');
  }

  get apiServerUrl(): string {
    return `https://127.0.0.1:${this.requirePorts().apiServer}`;
  }

  /** Plain HTTP on loopback; only this machine's processes reach it. */
  get etcdUrl(): string {
    return `http://127.0.0.1:${this.requirePorts().etcdClient}`;
  }

  get kubectlPath(): string {
    return this.binaries.kubectl;
  }

  get binaries(): ControlPlaneBinaries {
    if (!this.bins) throw new Error('control plane not started: binaries are resolved by start()');
    return this.bins;
  }

  /**
   * Builds the binaries if needed, then starts etcd, kube-apiserver (waits for
   * /readyz) and kube-controller-manager (waits until its namespace and garbage
   * collector controllers run).
   */
  async start(): Promise<void> {
    if (this.removed) throw new Error(`control plane data dir ${this.dataDir} was removed by stop()`);
    if (
      this.etcdProcess?.running ||
      this.apiServerProcess?.running ||
      this.controllerManagerProcess?.running
    ) {
      throw new Error('control plane already started');
    }
    const started = Date.now();
    this.bins = await ensureControlPlaneBinaries(this.log);
    this.pki = await this.ensurePki();
    this.ports = await this.choosePorts();
    this.writeAdminKubeconfig();
    this.writeControllerManagerKubeconfig();
    await this.startProcessesOnFreePorts();
    this.log(
      `control plane ready at ${this.apiServerUrl} in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(kubeconfig ${this.kubeconfigPath})`,
    );
  }

  /**
   * Stops kube-controller-manager, kube-apiserver, then etcd; removes the data
   * dir if it is our temporary one. Idempotent.
   */
  async stop(): Promise<void> {
    await this.stopProcesses();
    if (this.ownsDataDir && !this.removed) {
      rmSync(this.dataDir, { recursive: true, force: true });
      this.removed = true;
    }
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  /**
   * Writes a kubeconfig that authenticates as ServiceAccount namespace/name
   * with a token from the TokenRequest API (creating the namespace and the
   * ServiceAccount if missing), so a process can run under exactly the RBAC a
   * chart grants it. Returns the kubeconfig's path.
   */
  async serviceAccountKubeconfig(
    namespace: string,
    name: string,
    opts: { path?: string; expirationSeconds?: number } = {},
  ): Promise<string> {
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    await ignoreConflict(core.createNamespace({ body: { metadata: { name: namespace } } }));
    await ignoreConflict(core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }));
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: opts.expirationSeconds ?? 24 * 3600 } },
    });
    const token = tokenRequest.status?.token;
    if (!token) throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
    const path = opts.path ?? join(this.dataDir, `sa-${namespace}-${name}.kubeconfig`);
    const user = `system:serviceaccount:${namespace}:${name}`;
    writeFileSync(path, this.kubeconfigYaml(user, { token }, namespace), { mode: 0o600 });
    return path;
  }

  /**
   * Stops kube-apiserver only; etcd and its data stay. kube-controller-manager
   * keeps running and reconnects by itself once startApiServer() is done, as
   * it does when a real cluster's API server restarts.
   */
  async stopApiServer(): Promise<void> {
    await this.apiServerProcess?.stop();
    this.apiServerProcess = undefined;
  }

  /**
   * etcd, kube-apiserver, kube-controller-manager. freePort() only finds a
   * port free at that moment: a parallel test file (or a Docker node
   * publishing a port) can take it before our process binds it. That start
   * fails with "address already in use", and is tried again on fresh ports.
   */
  private async startProcessesOnFreePorts(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startEtcd();
        await this.startApiServer();
        await this.startControllerManager();
        return;
      } catch (err) {
        await this.stopProcesses();
        if (attempt >= PORT_ATTEMPTS || !portWasTaken(err)) throw err;
        this.log(
          `a control-plane port was taken before it could be bound (attempt ${attempt}); choosing new ports`,
        );
        this.ports = await this.freshPorts();
        this.writeAdminKubeconfig();
        this.writeControllerManagerKubeconfig();
      }
    }
  }

  /** (Re)starts kube-apiserver on the same port with the same certificates and etcd, and waits for /readyz. */
  async startApiServer(): Promise<void> {
    if (this.apiServerProcess?.running) throw new Error('kube-apiserver is already running');
    const proc = this.startLogged({
      name: 'kube-apiserver',
      command: this.binaries.kubeApiserver,
      args: this.apiServerArgs(),
    });
    this.apiServerProcess = proc;
    await waitUntilReady(proc, {
      timeoutMs: API_SERVER_READY_TIMEOUT_MS,
      what: 'kube-apiserver /readyz',
      ready: () => this.apiServerReady(),
    });
  }

  /** Freezes kube-apiserver (SIGSTOP): connections stay open but nothing answers, like a hung server. */
  pauseApiServer(): void {
    this.requireApiServer().signal('SIGSTOP');
  }

  resumeApiServer(): void {
    this.requireApiServer().signal('SIGCONT');
  }

  /** Stops kube-controller-manager only: namespaces stay Terminating and ownerReferences stop cascading. */
  async stopControllerManager(): Promise<void> {
    await this.controllerManagerProcess?.stop();
    this.controllerManagerProcess = undefined;
  }

  /**
   * (Re)starts kube-controller-manager against the running kube-apiserver and
   * waits until its namespace and garbage-collector controllers run.
   */
  async startControllerManager(): Promise<void> {
    if (this.controllerManagerProcess?.running) throw new Error('kube-controller-manager is already running');
    // Only start() and the health check use this port, so a fresh one per start is fine.
    const port = await freePort();
    const proc = this.startLogged({
      name: 'kube-controller-manager',
      command: this.binaries.kubeControllerManager,
      args: this.controllerManagerArgs(port),
    });
    this.controllerManagerProcess = proc;
    await waitUntilReady(proc, {
      timeoutMs: CONTROLLER_MANAGER_READY_TIMEOUT_MS,
      what: `kube-controller-manager /healthz to list ${AWAITED_CONTROLLERS.join(' and ')}`,
      ready: () => this.controllerManagerReady(port),
    });
  }

  /** Freezes kube-controller-manager (SIGSTOP): deletions wait until resumeControllerManager(). */
  pauseControllerManager(): void {
    this.requireControllerManager().signal('SIGSTOP');
  }

  resumeControllerManager(): void {
    this.requireControllerManager().signal('SIGCONT');
  }

  /**
   * Compacts etcd's history up to its current revision, so a watch that
   * starts from an older resourceVersion gets 410 Gone ("too old resource
   * version") and its client must relist. Returns the compacted revision.
   * Uses etcd's gRPC gateway (JSON over HTTP) so no etcdctl is needed.
   */
  async compactEtcd(): Promise<number> {
    const range = await this.etcdGateway('/v3/kv/range', { key: base64('/'), count_only: true });
    const revision = Number(readPath(range, ['header', 'revision']));
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      throw new Error(`etcd returned no usable revision: ${JSON.stringify(range)}`);
    }
    try {
      await this.etcdGateway('/v3/kv/compaction', { revision: String(revision), physical: true });
    } catch (err) {
      // kube-apiserver compacts every 5 minutes by itself; losing that race is fine.
      if (!(err instanceof Error && err.message.includes('required revision has been compacted'))) throw err;
    }
    this.log(`compacted etcd at revision ${revision}`);
    return revision;
  }

  private async stopProcesses(): Promise<void> {
    await this.stopControllerManager();
    await this.stopApiServer();
    await this.etcdProcess?.stop();
    this.etcdProcess = undefined;
  }

  private async startEtcd(): Promise<void> {
    const proc = this.startLogged({ name: 'etcd', command: this.binaries.etcd, args: this.etcdArgs() });
    this.etcdProcess = proc;
    await waitUntilReady(proc, {
      timeoutMs: ETCD_READY_TIMEOUT_MS,
      what: 'etcd /health',
      ready: async () => {
        const res = await fetch(`${this.etcdUrl}/health`, { signal: AbortSignal.timeout(2_000) });
        const body = (await res.json()) as unknown;
        return res.ok && readPath(body, ['health']) === 'true';
      },
    });
  }

  /**
   * Starts one of the control plane's processes with its output appended to
   * `<dataDir>/<name>.log` (after a marker line, so errors show only this
   * run's output), killed if this Node process exits first.
   */
  private startLogged(spec: Omit<ProcessSpec, 'logFile'>): ManagedProcess {
    const logFile = join(this.dataDir, `${spec.name}.log`);
    markRun(logFile);
    const proc = startProcess({ ...spec, logFile });
    track(proc);
    return proc;
  }

  private etcdArgs(): string[] {
    const ports = this.requirePorts();
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    return [
      '--name=dockyard',
      `--data-dir=${join(this.dataDir, 'etcd')}`,
      `--listen-client-urls=${this.etcdUrl}`,
      `--advertise-client-urls=${this.etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=dockyard=${peerUrl}`,
      '--log-level=warn',
      // A throwaway test cluster does not need durable writes, and fsync is the
      // slowest part of etcd on a busy CI disk. Dev mode's kept data stays durable.
      ...(this.ownsDataDir ? ['--unsafe-no-fsync'] : []),
    ];
  }

  private apiServerArgs(): string[] {
    const ports = this.requirePorts();
    const pki = this.requirePki();
    return [
      '--advertise-address=127.0.0.1',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.apiServer}`,
      `--cert-dir=${join(this.dataDir, 'apiserver-certs')}`,
      `--etcd-servers=${this.etcdUrl}`,
      `--watch-cache=${this.watchCache}`,
      `--tls-cert-file=${pki.apiServer.certPath}`,
      `--tls-private-key-file=${pki.apiServer.keyPath}`,
      `--client-ca-file=${pki.ca.certPath}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      // The ServiceAccount admission plugin rejects Pods whose ServiceAccount does
      // not exist yet (kube-controller-manager creates `default` a moment after
      // the namespace). Dockyard creates no Pods; turning it off avoids a trap.
      '--disable-admission-plugins=ServiceAccount',
      // The `kubernetes` Service's endpoints would be 127.0.0.1, which Endpoints
      // validation rejects (loopback); nothing here needs that Service.
      '--endpoint-reconciler-type=none',
    ];
  }

  private controllerManagerArgs(port: number): string[] {
    const pki = this.requirePki();
    return [
      `--kubeconfig=${this.controllerManagerKubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.controllerManager.certPath}`,
      `--tls-private-key-file=${pki.controllerManager.keyPath}`,
      // One process per control plane: nothing to elect, and no Lease writes.
      '--leader-elect=false',
      `--controllers=${CONTROLLERS.join(',')}`,
      // Each controller acts as its own ServiceAccount in kube-system with the
      // RBAC role the API server's bootstrap policy gives it (as kubeadm sets
      // it up); system:kube-controller-manager itself only requests their tokens.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.ca.certPath}`,
    ];
  }

  /**
   * /healthz answers as soon as the server listens, before the controllers
   * are built; its verbose form lists a check per controller once they are.
   * /healthz is always allowed, so no client certificate is needed.
   */
  private async controllerManagerReady(port: number): Promise<boolean> {
    const res = await httpsGet(`https://127.0.0.1:${port}/healthz?verbose`, {
      ca: readFileSync(this.requirePki().ca.certPath),
    });
    return res.status === 200 && AWAITED_CONTROLLERS.every((c) => res.body.includes(`[+]${c} ok`));
  }

  private async apiServerReady(): Promise<boolean> {
    const pki = this.requirePki();
    const res = await httpsGet(`${this.apiServerUrl}/readyz`, {
      ca: readFileSync(pki.ca.certPath),
      cert: readFileSync(pki.admin.certPath),
      key: readFileSync(pki.admin.keyPath),
    });
    return res.status === 200 && res.body.trim() === 'ok';
  }

  /** Certificates and keys are generated once per data dir so kubeconfigs and tokens survive restarts. */
  private async ensurePki(): Promise<Pki> {
    const dir = join(this.dataDir, 'pki');
    const pki: Pki = {
      ca: { certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'ca.key') },
      apiServer: { certPath: join(dir, 'apiserver.crt'), keyPath: join(dir, 'apiserver.key') },
      admin: { certPath: join(dir, 'admin.crt'), keyPath: join(dir, 'admin.key') },
      controllerManager: {
        certPath: join(dir, 'kube-controller-manager.crt'),
        keyPath: join(dir, 'kube-controller-manager.key'),
      },
      serviceAccountKey: join(dir, 'sa.key'),
      serviceAccountPub: join(dir, 'sa.pub'),
    };
    // Written last: a set-up interrupted half-way is regenerated as a whole.
    const complete = join(dir, 'complete');
    if (!existsSync(complete)) {
      await this.createPki(dir, pki);
      writeFileSync(complete, '');
    }
    // Its own marker: a data dir from before the control plane ran
    // kube-controller-manager (dev mode's) gets the certificate added, keeping the CA.
    const controllerManagerComplete = join(dir, 'kube-controller-manager.complete');
    if (!existsSync(controllerManagerComplete)) {
      await createCert(dir, pki.ca, {
        name: 'kube-controller-manager',
        commonName: CONTROLLER_MANAGER_USER,
        // Also its serving certificate, so the /healthz probe can verify it with our CA.
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
        usage: 'both',
      });
      writeFileSync(controllerManagerComplete, '');
    }
    return pki;
  }

  private async createPki(dir: string, pki: Pki): Promise<void> {
    rmSync(dir, { recursive: true, force: true });
    this.log(`generating control plane certificates in ${dir}`);
    const ca = await createCA(dir, 'dockyard-local-ca');
    await createCert(dir, ca, {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      dnsNames: SERVING_DNS_NAMES,
      ipAddresses: SERVING_IPS,
      usage: 'server',
    });
    await createCert(dir, ca, {
      name: 'admin',
      commonName: 'dockyard-admin',
      organization: 'system:masters',
      usage: 'client',
    });
    await run('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      pki.serviceAccountKey,
    ]);
    await run('openssl', ['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub]);
  }

  /**
   * Reuses the ports a kept data dir used last time when they are still free:
   * the kubeconfigs dev mode handed out keep working, and etcd's member keeps
   * its peer URL. Otherwise picks fresh free ports.
   */
  private async choosePorts(): Promise<Ports> {
    const file = join(this.dataDir, 'ports.json');
    const saved = readSavedPorts(file);
    if (saved && (await allFree([saved.etcdClient, saved.etcdPeer, saved.apiServer]))) return saved;
    return this.freshPorts();
  }

  private async freshPorts(): Promise<Ports> {
    const ports: Ports = {
      etcdClient: await freePort(),
      etcdPeer: await freePort(),
      apiServer: await freePort(),
    };
    writeFileSync(join(this.dataDir, 'ports.json'), JSON.stringify(ports) + '\n');
    return ports;
  }

  private writeAdminKubeconfig(): void {
    const pki = this.requirePki();
    const user = {
      'client-certificate-data': readFileSync(pki.admin.certPath).toString('base64'),
      'client-key-data': readFileSync(pki.admin.keyPath).toString('base64'),
    };
    writeFileSync(this.kubeconfigPath, this.kubeconfigYaml('dockyard-admin', user, 'default'), {
      mode: 0o600,
    });
  }

  private get controllerManagerKubeconfigPath(): string {
    return join(this.dataDir, 'kube-controller-manager.kubeconfig');
  }

  /** Rewritten on every start: the API server's port may have changed. */
  private writeControllerManagerKubeconfig(): void {
    const { controllerManager } = this.requirePki();
    const user = {
      'client-certificate-data': readFileSync(controllerManager.certPath).toString('base64'),
      'client-key-data': readFileSync(controllerManager.keyPath).toString('base64'),
    };
    writeFileSync(
      this.controllerManagerKubeconfigPath,
      this.kubeconfigYaml(CONTROLLER_MANAGER_USER, user, 'kube-system'),
      { mode: 0o600 },
    );
  }

  /** Self-contained kubeconfig (certificates inlined) so it can be copied anywhere on this host. */
  private kubeconfigYaml(userName: string, user: Record<string, string>, namespace: string): string {
    const ca = readFileSync(this.requirePki().ca.certPath).toString('base64');
    const context = `${userName}@${CLUSTER_NAME}`;
    return toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: CLUSTER_NAME, cluster: { server: this.apiServerUrl, 'certificate-authority-data': ca } },
      ],
      users: [{ name: userName, user }],
      contexts: [{ name: context, context: { cluster: CLUSTER_NAME, user: userName, namespace } }],
      'current-context': context,
    });
  }

  private async etcdGateway(path: string, body: Record<string, unknown>): Promise<unknown> {
    const res = await fetch(`${this.etcdUrl}${path}`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`etcd ${path} failed with HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as unknown;
  }

  private requirePorts(): Ports {
    if (!this.ports) throw new Error('control plane not started');
    return this.ports;
  }

  private requirePki(): Pki {
    if (!this.pki) throw new Error('control plane not started');
    return this.pki;
  }

  private requireApiServer(): ManagedProcess {
    if (!this.apiServerProcess?.running) throw new Error('kube-apiserver is not running');
    return this.apiServerProcess;
  }

  private requireControllerManager(): ManagedProcess {
    if (!this.controllerManagerProcess?.running) throw new Error('kube-controller-manager is not running');
    return this.controllerManagerProcess;
  }
}

/**
 * Polls `ready` until it is true, but gives up at once when the process exits:
 * either way the error carries the end of the process's log, which is where the
 * reason is (a bad flag, a taken port, etcd unreachable).
 */
async function waitUntilReady(
  proc: ManagedProcess,
  { timeoutMs, what, ready }: { timeoutMs: number; what: string; ready: () => Promise<boolean> },
): Promise<void> {
  const logFile = proc.spec.logFile ?? '(no log file)';
  let exit: { code: number | null } | undefined;
  void proc.exited.then((code) => (exit = { code }));
  try {
    // An exit ends the polling at once instead of waiting out the timeout.
    await waitFor(async () => exit !== undefined || (await ready()), { timeoutMs, intervalMs: 100, what });
    if (exit) throw new Error(`${proc.spec.name} exited with code ${String(exit.code)} before it was ready`);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `${reason}\n--- last lines of ${logFile} ---\n${await tailOfRun(logFile, LOG_TAIL_LINES)}`,
      {
        cause: err,
      },
    );
  }
}

const RUN_MARKER = '--- dockyard: process started at ';

/** Logs are appended across restarts; a marker line lets an error show only this run's output. */
function markRun(logFile: string): void {
  appendFileSync(logFile, `${RUN_MARKER}${new Date().toISOString()} ---\n`);
}

async function tailOfRun(file: string, lines: number): Promise<string> {
  // The child's last words can reach the file a moment after its exit event.
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    const text = readFileSync(file, 'utf8');
    const run = text.slice(Math.max(0, text.lastIndexOf(RUN_MARKER)));
    return run.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function httpsGet(
  url: string,
  tls: { ca: Buffer; cert?: Buffer; key?: Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...tls, method: 'GET', timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function ignoreConflict(pending: Promise<unknown>): Promise<void> {
  try {
    await pending;
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

function readSavedPorts(file: string): Ports | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<keyof Ports, unknown>>;
    const { etcdClient, etcdPeer, apiServer } = parsed;
    if (typeof etcdClient === 'number' && typeof etcdPeer === 'number' && typeof apiServer === 'number') {
      return { etcdClient, etcdPeer, apiServer };
    }
  } catch {
    // no saved ports yet
  }
  return undefined;
}

async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports) if (!(await portFree(port))) return false;
  return true;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function readPath(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/**
 * Processes still running when this Node process exits (a crashed test run, a
 * forgotten stop()) are killed so no etcd or kube-apiserver outlives it.
 */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function track(proc: ManagedProcess): void {
  if (!exitHookInstalled) {
    process.once('exit', () => {
      for (const p of live) p.signal('SIGKILL');
    });
    exitHookInstalled = true;
  }
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
}
