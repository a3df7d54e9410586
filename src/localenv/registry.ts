import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import {
  Network,
  PullPolicy,
  Wait,
  getContainerRuntimeClient,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers';
import { LocalenvContainer } from './docker-node.js';
import { ensureDebianPackages } from './apt.js';
import { run } from './exec.js';
import { LOCALENV_LABEL, ignoreNotFound } from './host-docker.js';
import {
  REGISTRY_CONFIG,
  REGISTRY_CONFIG_PATH,
  REGISTRY_HTPASSWD_PATH,
  ensureNodeImage,
  followProgress,
  splitTag,
} from './images.js';
import { freePort, waitFor } from './process.js';

/** What Docker's API takes as X-Registry-Auth. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export interface RegistryOptions {
  /** Network shared with the nodes; a new one is created (and removed on stop) when omitted. */
  network?: StartedNetwork;
  /** Node image (it carries docker-registry); built or found with ensureNodeImage when omitted. */
  image?: string;
  username?: string;
  /**
   * Serve without authentication: anyone may pull and push. For clients that
   * present no credentials (a DockerContainer's spec.image, a bench of a
   * thousand of them). `username`/`password` then exist but are never asked
   * for; Docker sends them only when challenged, so pushImage works either way.
   */
  anonymous?: boolean;
  log?: (m: string) => void;
}

/** The node image's registry config without its `auth` section, copied in for anonymous registries. */
export const ANONYMOUS_REGISTRY_CONFIG = REGISTRY_CONFIG.replace(/^auth:\n(?: {2}.*\n)*/m, '');
const ANONYMOUS_REGISTRY_CONFIG_PATH = '/etc/dockyard-registry/anonymous.yml';

export interface SeededRepository {
  /** Repository path inside the registry, e.g. `dockyard/busybox`. */
  repository: string;
  /** tag → manifest digest the registry reported on push. */
  tags: Record<string, string>;
}

/**
 * A real registry (distribution 2.8, htpasswd basic auth with a random
 * password, or no auth at all with `anonymous`) in a container. It listens
 * on the same port inside the container and on the host's 127.0.0.1, so
 * `127.0.0.1:PORT/repo:tag` names the same image on the host and, through
 * each node's forward, on every node. Its storage is the container's own
 * filesystem: gone on stop.
 */
export class Registry {
  readonly username: string;
  readonly password: string;
  readonly networkAlias: string;
  private hostPort = 0;
  private container: StartedTestContainer | undefined;
  /** Set once a container may exist, so stop() knows to look for it. */
  private starting = false;
  private ownNetwork: StartedNetwork | undefined;
  private sharedNetwork: StartedNetwork | undefined;
  private readonly log: (m: string) => void;

  constructor(private readonly opts: RegistryOptions = {}) {
    this.username = opts.username ?? 'dockyard';
    this.password = randomBytes(18).toString('base64url');
    this.networkAlias = `dockyard-registry-${randomBytes(3).toString('hex')}`;
    this.log = opts.log ?? (() => {});
    this.sharedNetwork = opts.network;
  }

  get port(): number {
    if (!this.hostPort) throw new Error('registry is not started');
    return this.hostPort;
  }

  /** `127.0.0.1:PORT`, the registry part of image references. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get network(): StartedNetwork {
    const network = this.sharedNetwork ?? this.ownNetwork;
    if (!network) throw new Error('registry is not started');
    return network;
  }

  get auth(): RegistryAuth {
    return { username: this.username, password: this.password, serveraddress: this.address };
  }

  async start(): Promise<this> {
    if (this.container) return this;
    const anonymous = this.opts.anonymous === true;
    if (!anonymous) await ensureDebianPackages(['apache2-utils'], this.log);
    const runtime = await getContainerRuntimeClient();
    const image = this.opts.image ?? (await ensureNodeImage(runtime.container.dockerode, this.log));
    if (!this.sharedNetwork) this.ownNetwork = await new Network().start();
    this.hostPort = await freePort();
    // -i: the password goes through stdin, not the command line.
    const { stdout: htpasswd } = anonymous
      ? { stdout: '' }
      : await run('htpasswd', ['-niB', this.username], { input: `${this.password}\n` });

    this.starting = true;
    try {
      this.container = await new LocalenvContainer(image)
        .withName(this.networkAlias)
        .withNetworkAndAliases(this.network, this.networkAlias)
        .withLabels({ [LOCALENV_LABEL]: 'true', 'dockyard.localenv.role': 'registry' })
        .withPullPolicy(PullPolicy.neverPull())
        .withEnvironment({ REGISTRY_HTTP_ADDR: `0.0.0.0:${this.hostPort}` })
        .withCopyContentToContainer(
          anonymous
            ? [{ content: ANONYMOUS_REGISTRY_CONFIG, target: ANONYMOUS_REGISTRY_CONFIG_PATH, mode: 0o644 }]
            : [{ content: htpasswd, target: REGISTRY_HTPASSWD_PATH, mode: 0o644 }],
        )
        .withCommand([
          'docker-registry',
          'serve',
          anonymous ? ANONYMOUS_REGISTRY_CONFIG_PATH : REGISTRY_CONFIG_PATH,
        ])
        .withLoopbackPort(this.hostPort, this.hostPort)
        .withWaitStrategy(Wait.forLogMessage(/listening on/))
        .withStartupTimeout(60_000)
        .start();
      // Up means: answers on the host port and demands credentials (or, anonymous, lets anyone in).
      const expected = anonymous ? 200 : 401;
      await waitFor(
        async () =>
          (await fetch(`http://${this.address}/v2/`, { signal: AbortSignal.timeout(2_000) })).status ===
          expected,
        { timeoutMs: 30_000, what: `registry at ${this.address} to answer ${expected} on /v2/` },
      );
    } catch (err) {
      await this.stop().catch(() => {});
      throw new Error(`starting registry ${this.networkAlias}: ${(err as Error).message}`, { cause: err });
    }
    this.log(`registry up at ${this.address} (alias ${this.networkAlias}${anonymous ? ', anonymous' : ''})`);
    return this;
  }

  async stop(): Promise<void> {
    // By name: a start that failed half-way may have created the container without returning it.
    if (this.starting) {
      const runtime = await getContainerRuntimeClient();
      await runtime.container.dockerode
        .getContainer(this.networkAlias)
        .remove({ force: true, v: true })
        .catch(ignoreNotFound);
      this.container = undefined;
      this.starting = false;
    }
    if (this.ownNetwork) {
      await this.ownNetwork.stop();
      this.ownNetwork = undefined;
    }
  }

  /**
   * Tags `source` as `ADDRESS/repo:tag`, pushes it with our credentials (an
   * anonymous registry never asks for them), and returns the manifest digest.
   */
  async pushImage(hostDocker: Dockerode, source: string, repo: string, tag: string): Promise<string> {
    const target = `${this.address}/${repo}`;
    await hostDocker.getImage(source).tag({ repo: target, tag });
    const stream = await hostDocker.getImage(`${target}:${tag}`).push({ authconfig: this.auth });
    const messages = await followProgress(stream, `pushing ${source} as ${target}:${tag}`);
    // The host's data root is a long-lived cache and the port changes every
    // run: drop the registry tag again unless it is the image's only name.
    const { RepoTags } = await hostDocker.getImage(`${target}:${tag}`).inspect();
    if ((RepoTags ?? []).length > 1) await hostDocker.getImage(`${target}:${tag}`).remove();
    const digest =
      messages.find((m) => m.aux?.Digest)?.aux?.Digest ??
      messages.map((m) => /digest: (sha256:[0-9a-f]{64})/.exec(m.status ?? '')?.[1]).find(Boolean);
    if (!digest) throw new Error(`pushing ${target}:${tag}: the registry reported no digest`);
    return digest;
  }

  /**
   * Pushes the workload image as `dockyard/busybox:1.36` and a variant with one
   * extra file as `dockyard/busybox:1.36-alt`, so tests have two tags with
   * different digests.
   */
  async seedWorkloadImage(hostDocker: Dockerode, sourceImage: string): Promise<SeededRepository> {
    const repository = 'dockyard/busybox';
    const alt = await variantImage(hostDocker, sourceImage);
    const tags: Record<string, string> = {
      '1.36': await this.pushImage(hostDocker, sourceImage, repository, '1.36'),
      '1.36-alt': await this.pushImage(hostDocker, alt, repository, '1.36-alt'),
    };
    if (tags['1.36'] === tags['1.36-alt'])
      throw new Error(`seeding ${repository}: both tags got digest ${tags['1.36']}`);
    this.log(`seeded ${this.address}/${repository}: ${JSON.stringify(tags)}`);
    return { repository, tags };
  }
}

/** `SOURCE-alt`: the source image plus /etc/dockyard-variant, made with `docker commit` (reused when present). */
async function variantImage(docker: Dockerode, source: string): Promise<string> {
  const [repo, tag] = splitTag(source);
  const alt = `${repo}:${tag}-alt`;
  const exists = await docker
    .getImage(alt)
    .inspect()
    .then(() => true)
    .catch((err: unknown) => (ignoreNotFound(err), false));
  if (exists) return alt;
  const container = await docker.createContainer({
    Image: source,
    Cmd: ['sh', '-c', 'echo alt > /etc/dockyard-variant'],
    Labels: { [LOCALENV_LABEL]: 'true' },
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`building ${alt}: the variant step exited ${StatusCode}`);
    await container.commit({ repo, tag: `${tag}-alt`, comment: 'dockyard test variant' });
  } finally {
    await container.remove({ force: true }).catch(ignoreNotFound);
  }
  return alt;
}

/**
 * Pulls `ref` into a daemon, with registry credentials when given. The
 * credentials travel in the X-Registry-Auth header (never the query string).
 */
export async function pullImage(docker: Dockerode, ref: string, auth?: RegistryAuth): Promise<void> {
  const [fromImage, tag] = splitTag(ref);
  const stream = auth
    ? await docker.createImage(auth, { fromImage, tag })
    : await docker.createImage({ fromImage, tag });
  await followProgress(stream, `pulling ${ref}`);
}
