import type { EventLog } from './events.js';
import { digestOf, newId, rfc3339Nano } from './ids.js';

/** An image the host "has": a name with a synthetic ID and the config containers inherit. */
export interface HollowImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  size: number;
  config: ImageConfig;
}

/** The parts of an image's config Docker merges into a container created from it. */
export interface ImageConfig {
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Labels?: Record<string, string> | null;
  WorkingDir?: string;
  Volumes?: Record<string, object> | null;
}

export interface Endpoint {
  networkId: string;
  endpointId: string;
  aliases: string[] | null;
  ipamConfig: { IPv4Address?: string; IPv6Address?: string } | null;
  /** Set while the container runs, as on a real daemon. */
  ip: string;
  mac: string;
}

export interface HollowContainer {
  id: string;
  name: string;
  created: string;
  /** The reference it was created from (Config.Image). */
  image: string;
  imageId: string;
  config: Record<string, unknown> & { Labels: Record<string, string>; Env: string[]; Cmd: string[] | null };
  hostConfig: Record<string, unknown>;
  /** Attached networks by name, in the order they were attached. */
  networks: Map<string, Endpoint>;
  mounts: Array<{
    type: 'volume' | 'bind' | 'tmpfs';
    name: string;
    source: string;
    destination: string;
    rw: boolean;
    /** Created for the container (an image VOLUME line): `DELETE ?v=1` removes it. */
    anonymous: boolean;
  }>;
  state: {
    status: 'created' | 'running' | 'exited';
    exitCode: number;
    pid: number;
    startedAt?: string;
    finishedAt?: string;
  };
  restartCount: number;
}

export interface HollowNetwork {
  id: string;
  name: string;
  created: string;
  driver: string;
  scope: 'local';
  internal: boolean;
  attachable: boolean;
  enableIPv6: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  subnet: string;
  gateway: string;
  /** Addresses handed out so far (the next host number). */
  nextHost: number;
  builtin: boolean;
}

export interface HollowVolume {
  name: string;
  driver: string;
  labels: Record<string, string> | null;
  options: Record<string, string> | null;
  createdAt: string;
}

/** Docker's default PATH, which every image built FROM scratch-ish bases carries. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What a hollow host is seeded with: an image name, optionally with the config the real image has. */
export interface ImageSeed {
  name: string;
  config?: ImageConfig;
}

/** Everything one hollow host holds, in memory; handlers mutate it and emit events. */
export class HostState {
  readonly containers = new Map<string, HollowContainer>();
  readonly images = new Map<string, HollowImage>();
  readonly networks = new Map<string, HollowNetwork>();
  readonly volumes = new Map<string, HollowVolume>();
  /** host:port the host listens on (for /info's warning); set once it listens. */
  listenAddress = '';
  private subnetCounter = 18;
  private pidCounter = 1000;
  /** The daemon ID /info reports (twelve groups of four base32 characters). */
  readonly id = Array.from({ length: 12 }, () =>
    Array.from({ length: 4 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[Math.floor(Math.random() * 32)]).join(
      '',
    ),
  ).join(':');

  constructor(
    readonly name: string,
    readonly events: EventLog,
  ) {
    // The three networks every daemon starts with.
    this.addNetwork({ name: 'bridge', driver: 'bridge', builtin: true, subnet: '172.17.0.0/16' });
    this.addNetwork({ name: 'host', driver: 'host', builtin: true, subnet: '' });
    this.addNetwork({ name: 'none', driver: 'null', builtin: true, subnet: '' });
  }

  nextPid(): number {
    return ++this.pidCounter;
  }

  /** The next private /16 for a user network, like the daemon's default address pools. */
  nextSubnet(): string {
    return `172.${this.subnetCounter++}.0.0/16`;
  }

  addNetwork(n: Partial<HollowNetwork> & { name: string; driver: string; subnet: string }): HollowNetwork {
    const gateway = n.subnet ? n.subnet.replace(/\.0\/\d+$/, '.1') : '';
    const network: HollowNetwork = {
      id: newId(),
      created: rfc3339Nano(),
      scope: 'local',
      internal: false,
      attachable: false,
      enableIPv6: false,
      labels: {},
      options: {},
      gateway,
      nextHost: 2,
      builtin: false,
      ...n,
    };
    this.networks.set(network.id, network);
    return network;
  }

  /** Seeds or pulls an image: the ID derives from the name, so every host agrees on it. */
  addImage(seed: ImageSeed): HollowImage {
    const tag = withTag(seed.name);
    const existing = this.findImage(tag);
    if (existing) return existing;
    const image: HollowImage = {
      id: digestOf(`hollow-image:${tag}`),
      repoTags: [tag],
      repoDigests: [],
      created: rfc3339Nano(),
      size: 2_000_000,
      config: {
        Env: [DEFAULT_PATH],
        Cmd: ['sh'],
        Entrypoint: null,
        Labels: null,
        Volumes: null,
        ...seed.config,
      },
    };
    this.images.set(image.id, image);
    return image;
  }

  /** By tag (a missing tag means latest), by full or short ID, or by repo digest. */
  findImage(ref: string): HollowImage | undefined {
    const tag = withTag(ref);
    for (const image of this.images.values()) {
      if (image.repoTags.includes(tag) || image.repoDigests.includes(ref)) return image;
      const hex = ref.replace(/^sha256:/, '');
      if (hex.length >= 12 && image.id.slice(7).startsWith(hex)) return image;
    }
    return undefined;
  }

  /** By full ID, by name (with or without the slash), or by a unique ID prefix: Docker's lookup order. */
  findContainer(ref: string): HollowContainer | undefined {
    const exact = this.containers.get(ref);
    if (exact) return exact;
    const name = ref.replace(/^\//, '');
    for (const c of this.containers.values()) if (c.name === name) return c;
    const matches = [...this.containers.values()].filter((c) => c.id.startsWith(ref));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** By full ID, by exact name, then by a unique ID prefix. */
  findNetwork(ref: string): HollowNetwork | undefined {
    const exact = this.networks.get(ref);
    if (exact) return exact;
    for (const n of this.networks.values()) if (n.name === ref) return n;
    const matches = [...this.networks.values()].filter((n) => n.id.startsWith(ref));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The containers that mount a volume, in creation order. */
  volumeUsers(name: string): HollowContainer[] {
    return [...this.containers.values()].filter((c) =>
      c.mounts.some((m) => m.type === 'volume' && m.name === name),
    );
  }
}

/** `busybox` → `busybox:latest`; a digest reference or one with a tag stays as it is. */
export function withTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}
