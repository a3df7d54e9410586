import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import {
  GenericContainer,
  PullPolicy,
  Wait,
  getContainerRuntimeClient,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers';
import { ensureDebianPackages } from './apt.js';
import { LOCALENV_LABEL, ignoreNotFound } from './host-docker.js';
import { copyImage, ensureNodeImage } from './images.js';
import { freePort, waitFor } from './process.js';
import type { Registry } from './registry.js';
import { createCA, createCert } from './tls.js';

/**
 * GenericContainer with the few host settings testcontainers 12 has no builder
 * method for: a port published on 127.0.0.1 only (testcontainers binds all
 * interfaces), device cgroup rules, volume mounts, unmasked /proc and /sys
 * paths, and network aliases given at create time (testcontainers' own
 * aliases also attach the default bridge).
 */
export class LocalenvContainer extends GenericContainer {
  private loopbackPorts: { container: number; host: number }[] = [];
  private deviceCgroupRules: string[] = [];
  private volumeMounts: { source: string; target: string }[] = [];
  private aliases: { network: string; names: string[] } | undefined;
  private unmaskPaths = false;

  withLoopbackPort(container: number, host: number): this {
    this.loopbackPorts.push({ container, host });
    return this;
  }

  withDeviceCgroupRule(rule: string): this {
    this.deviceCgroupRules.push(rule);
    return this;
  }

  withVolumeMount(source: string, target: string): this {
    this.volumeMounts.push({ source, target });
    return this;
  }

  /**
   * The API form of `--security-opt systempaths=unconfined` (a CLI-only
   * spelling the daemon rejects): no masked or read-only /proc and /sys paths.
   */
  withUnmaskedSystemPaths(): this {
    this.unmaskPaths = true;
    return this;
  }

  withNetworkAndAliases(network: StartedNetwork, ...names: string[]): this {
    this.aliases = { network: network.getName(), names };
    return this.withNetwork(network);
  }

  protected override async beforeContainerCreated(): Promise<void> {
    for (const { container, host } of this.loopbackPorts) {
      const key = `${container}/tcp`;
      this.createOpts.ExposedPorts = { ...this.createOpts.ExposedPorts, [key]: {} };
      this.hostConfig.PortBindings = {
        ...this.hostConfig.PortBindings,
        [key]: [{ HostIp: '127.0.0.1', HostPort: String(host) }],
      };
    }
    if (this.unmaskPaths) {
      this.hostConfig.MaskedPaths = [];
      this.hostConfig.ReadonlyPaths = [];
    }
    if (this.deviceCgroupRules.length > 0) this.hostConfig.DeviceCgroupRules = this.deviceCgroupRules;
    if (this.volumeMounts.length > 0) {
      this.hostConfig.Mounts = this.volumeMounts.map((m) => ({
        Type: 'volume',
        Source: m.source,
        Target: m.target,
      }));
    }
    if (this.aliases) {
      this.createOpts.NetworkingConfig = {
        EndpointsConfig: { [this.aliases.network]: { Aliases: this.aliases.names } },
      };
    }
  }
}

/** PEM contents a client needs to talk to a TLS node. */
export interface NodeTls {
  ca: string;
  cert: string;
  key: string;
}

export interface DockerNodeOptions {
  /** Short name: network alias and hostname of the node, part of its container name. */
  name: string;
  /** Serve the Docker API with mutual TLS (port 2376) instead of plain TCP (2375). */
  tls?: boolean;
  network: StartedNetwork;
  /** Makes the registry reachable inside the node at the same 127.0.0.1:PORT the host uses. */
  registry?: Registry;
  /** Node image; built (or found in the cache) with ensureNodeImage when omitted. */
  image?: string;
  /**
   * An edge box the controller cannot reach: dockerd serves only its unix
   * socket inside the node, nothing is published, and an agent run inside
   * (exec) must dial out. `mounts` are bind-mounted read-only (the agent's code).
   */
  unreachable?: { mounts: Array<{ source: string; target: string }> };
  /**
   * A reachable node (its port published) that can also run an agent: these
   * are bind-mounted read-only (the agent's code), so one daemon can be
   * compared reached directly and through its agent (the benchmark).
   */
  agentMounts?: Array<{ source: string; target: string }>;
  log?: (m: string) => void;
}

const TLS_DIR = '/etc/dockyard-node/tls';
const STOP_TIMEOUT_S = 30;
/** Starts tried with a fresh port when the one picked was taken meanwhile. */
const PORT_ATTEMPTS = 3;

/**
 * A Docker-in-Docker target node: a container from the node image running
 * dockerd, published on 127.0.0.1 at a fixed port so it keeps its endpoint
 * across halt/resume. Inner images, containers and volumes live in a named
 * volume that is removed with the node.
 */
export class DockerNode {
  readonly name: string;
  private clientTls: NodeTls | undefined;
  private tunnelSocket: string | undefined;
  private hostPort = 0;
  private started: StartedTestContainer | undefined;
  private containerName: string | undefined;
  private volumeName: string | undefined;
  private readonly log: (m: string) => void;

  constructor(private readonly opts: DockerNodeOptions) {
    this.name = opts.name;
    this.log = opts.log ?? (() => {});
  }

  /** An edge box reached only through an agent: it has no endpoint. */
  get unreachable(): boolean {
    return this.opts.unreachable !== undefined;
  }

  /** CA and client certificate/key (PEM) for a TLS node; undefined for a plain one. */
  get tls(): NodeTls | undefined {
    return this.clientTls;
  }

  get endpoint(): string {
    if (this.opts.unreachable) throw new Error(`node ${this.name} is reached only through its agent`);
    if (!this.hostPort) throw new Error(`node ${this.name} is not started`);
    return `tcp://127.0.0.1:${this.hostPort}`;
  }

  get port(): number {
    return this.hostPort;
  }

  get containerId(): string {
    if (!this.started) throw new Error(`node ${this.name} is not started`);
    return this.started.getId();
  }

  /**
   * An unreachable node's daemon as its agent's tunnel serves it (a local
   * socket of the controller): client() then goes through that socket.
   */
  reachThrough(socketPath: string): void {
    this.tunnelSocket = socketPath;
  }

  /** A client for the node's daemon; `timeoutMs` bounds every request (for probing a paused node). */
  client(opts: { timeoutMs?: number } = {}): Dockerode {
    if (this.tunnelSocket) return new Dockerode({ socketPath: this.tunnelSocket, timeout: opts.timeoutMs });
    if (!this.hostPort) throw new Error(`node ${this.name} is not started`);
    const base = { host: '127.0.0.1', port: this.hostPort, timeout: opts.timeoutMs };
    const tls = this.clientTls;
    return tls
      ? new Dockerode({ ...base, protocol: 'https', ca: tls.ca, cert: tls.cert, key: tls.key })
      : new Dockerode({ ...base, protocol: 'http' });
  }

  async start(): Promise<this> {
    if (this.started) return this;
    const started = Date.now();
    const host = (await getContainerRuntimeClient()).container.dockerode;
    const image = this.opts.image ?? (await ensureNodeImage(host, this.log));
    for (let attempt = 1; ; attempt++) {
      this.containerName = `dockyard-node-${this.name}-${randomBytes(3).toString('hex')}`;
      try {
        await this.launch(host, image, this.containerName);
        if (!this.opts.unreachable) await this.waitForPing();
        break;
      } catch (err) {
        await this.stop().catch(() => {});
        // The port freePort found can be taken by another process before Docker binds it (CI saw it once).
        if (attempt < PORT_ATTEMPTS && /address already in use/.test((err as Error).message)) continue;
        throw new Error(`starting Docker node ${this.name}: ${(err as Error).message}`, { cause: err });
      }
    }
    const where = this.opts.unreachable ? '(no published port)' : `at ${this.endpoint}`;
    this.log(`node ${this.name} up ${where} in ${Date.now() - started} ms`);
    return this;
  }

  private async launch(host: Dockerode, image: string, containerName: string): Promise<void> {
    this.hostPort = this.opts.unreachable ? 0 : await freePort();
    const labels = {
      [LOCALENV_LABEL]: 'true',
      'dockyard.localenv.role': 'node',
      'dockyard.localenv.node': this.name,
    };
    this.volumeName = `${containerName}-docker`;
    await host.createVolume({ Name: this.volumeName, Labels: labels });

    const apiPort = this.opts.tls ? 2376 : 2375;
    const container = new LocalenvContainer(image)
      .withName(containerName)
      .withHostname(this.name)
      .withNetworkAndAliases(this.opts.network, this.name)
      .withLabels(labels)
      .withPullPolicy(PullPolicy.neverPull())
      // The capability set that works for Docker-in-Docker here; --privileged
      // fails because CAP_SYS_RESOURCE is not in our bounding set.
      .withAddedCapabilities('ALL')
      .withDroppedCapabilities('SYS_RESOURCE')
      .withSecurityOpt('seccomp=unconfined', 'apparmor=unconfined')
      .withUnmaskedSystemPaths()
      .withDeviceCgroupRule('a *:* rwm')
      .withBindMounts([
        { source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', mode: 'rw' },
        // What an agent inside the node needs (the built dist/, node_modules), read-only.
        ...(this.opts.unreachable?.mounts ?? this.opts.agentMounts ?? []).map((m) => ({
          ...m,
          mode: 'ro' as const,
        })),
      ])
      .withVolumeMount(this.volumeName, '/var/lib/docker')
      .withWaitStrategy(Wait.forLogMessage(/API listen on/))
      .withStartupTimeout(120_000);
    if (this.opts.unreachable) container.withCommand(['dockerd', '-H', 'unix:///var/run/docker.sock']);
    else container.withLoopbackPort(apiPort, this.hostPort);
    if (this.opts.registry) {
      const r = this.opts.registry;
      container.withEnvironment({ REGISTRY_FORWARD: `${r.port}:${r.networkAlias}:${r.port}` });
    }
    if (this.opts.tls) {
      const server = await this.createTls();
      container
        .withCopyContentToContainer([
          { content: server.ca, target: `${TLS_DIR}/ca.pem`, mode: 0o644 },
          { content: server.cert, target: `${TLS_DIR}/server-cert.pem`, mode: 0o644 },
          { content: server.key, target: `${TLS_DIR}/server-key.pem`, mode: 0o600 },
        ])
        .withCommand([
          'dockerd',
          '--tlsverify',
          `--tlscacert=${TLS_DIR}/ca.pem`,
          `--tlscert=${TLS_DIR}/server-cert.pem`,
          `--tlskey=${TLS_DIR}/server-key.pem`,
          '-H',
          'tcp://0.0.0.0:2376',
          // For exec'ing `docker` inside the node.
          '-H',
          'unix:///var/run/docker.sock',
        ]);
    }
    this.started = await container.start();
  }

  /**
   * CA, server and client certificates made fresh for this node. Returns the
   * server side; the client side is kept for `tls` and client(). Files are deleted once
   * read: the keys live only in memory and in the node container.
   */
  private async createTls(): Promise<NodeTls> {
    await ensureDebianPackages(['openssl'], this.log); // tls.ts shells out to it
    const dir = await mkdtemp(join(tmpdir(), `dockyard-node-${this.name}-tls-`));
    try {
      const ca = await createCA(dir, `dockyard-node-${this.name}-ca`);
      const server = await createCert(dir, ca, {
        name: 'server',
        commonName: this.name,
        dnsNames: ['localhost', this.name],
        ipAddresses: ['127.0.0.1'],
        usage: 'server',
      });
      const client = await createCert(dir, ca, { name: 'client', commonName: 'dockyard', usage: 'client' });
      const caPem = await readFile(ca.certPath, 'utf8');
      this.clientTls = {
        ca: caPem,
        cert: await readFile(client.certPath, 'utf8'),
        key: await readFile(client.keyPath, 'utf8'),
      };
      return {
        ca: caPem,
        cert: await readFile(server.certPath, 'utf8'),
        key: await readFile(server.keyPath, 'utf8'),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Answers when the daemon responds to `_ping` through the published port. */
  async ping(timeoutMs = 2_000): Promise<void> {
    const started = Date.now();
    try {
      await this.client({ timeoutMs }).ping();
    } catch (err) {
      // The client reports its own timeout as "socket hang up"; say what happened.
      const elapsed = Date.now() - started;
      const what = elapsed >= timeoutMs ? `timed out after ${timeoutMs} ms` : `failed after ${elapsed} ms`;
      throw new Error(`_ping to node ${this.name} at ${this.endpoint} ${what}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private async waitForPing(): Promise<void> {
    await waitFor(
      async () => {
        await this.ping();
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `node ${this.name} to answer _ping at ${this.endpoint}` },
    );
  }

  private async hostContainer(): Promise<Dockerode.Container> {
    const runtime = await getContainerRuntimeClient();
    return runtime.container.dockerode.getContainer(this.containerId);
  }

  /** `docker stop`: the node is down (connection refused) but keeps its images and containers. */
  async halt(): Promise<void> {
    const c = await this.hostContainer();
    await c.stop({ t: STOP_TIMEOUT_S }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304) throw err; // 304: already stopped
    });
  }

  /** `docker start` after halt(); same endpoint, waits until the daemon answers. */
  async resume(): Promise<void> {
    const c = await this.hostContainer();
    await c.start().catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304) throw err; // 304: already running
    });
    await this.waitForPing();
  }

  /**
   * `docker kill`: SIGKILL to the node, so the inner dockerd gets no chance to
   * stop its containers or flush anything (a power cut). resume() boots it again.
   */
  async kill(): Promise<void> {
    const c = await this.hostContainer();
    await c.kill({ signal: 'SIGKILL' }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 409) throw err; // 409: not running
    });
    await waitFor(async () => !(await c.inspect()).State.Running, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `node ${this.name} to be killed`,
    });
  }

  async restart(): Promise<void> {
    await this.halt();
    await this.resume();
  }

  /** Freezes every process of the node: connections are accepted but nothing answers (a hang or partition). */
  async pause(): Promise<void> {
    await (await this.hostContainer()).pause();
  }

  async unpause(): Promise<void> {
    await (await this.hostContainer()).unpause();
  }

  /** Runs a command inside the node container (not in a workload container). */
  async exec(cmd: string[]): Promise<{ exitCode: number; output: string }> {
    if (!this.started) throw new Error(`node ${this.name} is not started`);
    const { exitCode, output } = await this.started.exec(cmd);
    return { exitCode, output };
  }

  /** `docker save | docker load` from another daemon into this node. */
  async loadImage(fromDocker: Dockerode, image: string): Promise<void> {
    await copyImage(fromDocker, this.client(), image);
  }

  /**
   * Removes the node and its volume. A graceful stop first lets the inner
   * dockerd stop its containers and delete their cgroups, which live in the
   * host's cgroup tree. Idempotent.
   */
  async stop(): Promise<void> {
    const runtime = await getContainerRuntimeClient();
    const host = runtime.container.dockerode;
    // By name: a start that failed half-way may have created the container without returning it.
    if (this.containerName) {
      const c = host.getContainer(this.containerName);
      const info = await c.inspect().catch((err: unknown) => (ignoreNotFound(err), undefined));
      if (info?.State.Paused) await c.unpause();
      if (info?.State.Running) await c.stop({ t: STOP_TIMEOUT_S }).catch(() => {});
      if (info) await c.remove({ force: true, v: true }).catch(ignoreNotFound);
      this.started = undefined;
      this.containerName = undefined;
    }
    if (this.volumeName) {
      const volume = this.volumeName;
      await waitFor(
        async () => {
          await host
            .getVolume(volume)
            .remove()
            .catch((err: unknown) => ignoreNotFound(err));
          return true;
        },
        { timeoutMs: 10_000, what: `volume ${volume} of node ${this.name} to be removed` },
      );
      this.volumeName = undefined;
    }
  }
}
