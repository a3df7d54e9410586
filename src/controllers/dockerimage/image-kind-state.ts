import type { CoreV1Api } from '@kubernetes/client-node';
import type { DockerImage } from '../../crds/dockerimage.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { ImageAccessRecords, type CredentialIdentity } from './image-access.js';
import type { ImageMachineContext } from './image-machine.js';
import { noopImageMetrics, type ImageMetrics } from './image-metrics.js';
import { PullJobs } from './pull-jobs.js';
import type { ImagePolicyGate } from '../image-policy/image-policy-gate.js';
import { BackgroundJobs } from '../image-push/background-jobs.js';
import type { PushDeps } from '../image-push/image-push.js';
import type { PushResult } from '../image-push/push-result.js';

/** A push (and signing) to spec.push that has not finished after this long is abandoned and retried. */
export const DEFAULT_PUSH_TIMEOUT_MS = 30 * 60_000;

export const IMAGE_KIND = 'DockerImage';

export interface DockerImageKindDeps {
  /** Reads pull Secrets by name (never lists or watches them). */
  core: Pick<CoreV1Api, 'readNamespacedSecret'>;
  metrics?: ImageMetrics;
  /** The DockerImages in the cache, for the shared-image check before a delete. */
  objects?: () => readonly DockerImage[];
  /** Reconcile `namespace/name` soon: its background pull settled. */
  trigger?: (key: string) => void;
  now?: () => number;
  pullTimeoutMs?: number;
  /** Which credentials each image on each host was pulled or verified with (shared with DockerContainer). */
  access?: ImageAccessRecords;
  /** The hosts' imagePolicy (shared with DockerContainer); without it no image policy is enforced (unit tests). */
  imagePolicy?: ImagePolicyGate;
}

/** The pull an owner started or joined on a host, and the credential identity it runs with. */
export interface OwnerPull {
  key: string;
  identity: CredentialIdentity;
}

/** The owner's id: the uid, or namespace/name for an object not yet stored. */
export function ownerId(image: DockerImage): string {
  return image.metadata.uid ?? `${image.metadata.namespace ?? ''}/${image.metadata.name}`;
}

/** The key of what the kind keeps in memory for one owner on one host. */
export function ownerHostKey(image: DockerImage, host: string): string {
  return `${ownerId(image)}\u0000${host}`;
}

/**
 * What one DockerImage kind instance keeps in this process between
 * reconciles: pulls run in the background and outlive a reconcile, and the
 * kind's last decision per owner and host is newer than the informer's copy
 * of status. Each kind instance has its own (tests make several).
 */
export class ImageKindState {
  readonly core: DockerImageKindDeps['core'];
  readonly metrics: ImageMetrics;
  readonly clock: () => number;
  readonly pullTimeoutMs: number | undefined;
  readonly objects: () => readonly DockerImage[];
  readonly jobs: PullJobs;
  /** Which credentials each image on each host was pulled or verified with. */
  readonly access: ImageAccessRecords;
  readonly imagePolicy: ImagePolicyGate | undefined;
  /** Last machine state per owner and host: status may not carry it (or lag behind the informer). */
  readonly memo = new Map<string, SavedMachineState<ImageMachineContext>>();
  /** The pull each owner started or joined on a host (by ownerHostKey). */
  readonly ownerPulls = new Map<string, OwnerPull>();
  /**
   * Pulls an owner left on a host (by ownerHostKey) that have not ended yet:
   * a Delete waits for them, so no image is removed under a running pull.
   */
  readonly stopping = new Map<string, Promise<void>>();
  /** Mirroring pushes to spec.push, one per owner and host (by ownerHostKey). */
  readonly pushes: BackgroundJobs<PushResult>;

  constructor(deps: DockerImageKindDeps) {
    this.core = deps.core;
    this.metrics = deps.metrics ?? noopImageMetrics;
    this.clock = deps.now ?? Date.now;
    this.pullTimeoutMs = deps.pullTimeoutMs;
    this.objects = deps.objects ?? (() => []);
    this.jobs = new PullJobs({ ...(deps.trigger ? { onSettled: deps.trigger } : {}), now: this.clock });
    this.access = deps.access ?? new ImageAccessRecords();
    this.imagePolicy = deps.imagePolicy;
    this.pushes = new BackgroundJobs<PushResult>({
      ...(deps.trigger ? { onSettled: deps.trigger } : {}),
      now: this.clock,
    });
  }

  /** What mirroring the image needs. */
  get pushDeps(): PushDeps {
    return {
      core: this.core,
      pushes: this.pushes,
      clock: this.clock,
      timeoutMs: DEFAULT_PUSH_TIMEOUT_MS,
      metrics: this.metrics,
    };
  }
}
