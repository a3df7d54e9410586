// The reasons Dockyard writes: condition reasons (Ready, Stalled, Reconciling,
// PlacementMatched, Drained, Terminating) and Event reasons, in one place, as
// crossplane-runtime's reconciler.go opens with its own. Everything that reads
// them derives from here:
//   - the controllers use the constants, never string literals (a source scan
//     in src/crds/reasons.test.ts fails on a literal that is not listed here);
//   - docs/troubleshooting.md has a `### <Reason>` section for every condition
//     reason (scripts/generate-docs.test.ts);
//   - the Argo CD health checks get their reason tables from the groups below
//     (scripts/generate-gitops.ts writes them into gitops/argocd/health/*.lua).
// A reason is part of the API: renaming one breaks alerts, `kubectl wait` and
// Argo CD users' expectations.

/** Condition reasons, grouped as docs/troubleshooting.md groups them. */
export const Reason = {
  // Healthy and in progress.
  Converged: 'Converged',
  Connected: 'Connected',
  Progressing: 'Progressing',

  // DockerHost: its daemon cannot be used.
  Unreachable: 'Unreachable',
  Timeout: 'Timeout',
  TLSError: 'TLSError',
  /** Also a registry refusing a pull. */
  Unauthorized: 'Unauthorized',
  /** A DockerHost's TLS Secret, or a Secret a DockerContainer's env reads. */
  SecretNotFound: 'SecretNotFound',
  ConfigError: 'ConfigError',
  DaemonError: 'DaemonError',
  /**
   * A DockerHost with spec.agent whose agent holds no tunnel; on the objects
   * placed there, Ready=Unknown: their state is unknown since the agent was last seen.
   */
  AgentDisconnected: 'AgentDisconnected',

  // Placement: why a host takes no new object, keeps one it would not take
  // today (PlacementMatched=False), or removes one.
  NoMatchingHosts: 'NoMatchingHosts',
  HostNotFound: 'HostNotFound',
  NamespaceNotAllowed: 'NamespaceNotAllowed',
  HostUnschedulable: 'HostUnschedulable',
  HostDraining: 'HostDraining',
  HostTerminating: 'HostTerminating',
  HostNoLongerMatches: 'HostNoLongerMatches',
  NamespaceNoLongerAllowed: 'NamespaceNoLongerAllowed',
  PlacementChanged: 'PlacementChanged',

  // DockerHost drain and deletion (its Drained and Terminating conditions).
  Draining: 'Draining',
  Drained: 'Drained',
  ObjectsStillPlaced: 'ObjectsStillPlaced',

  // Any kind, on one host.
  HostNotReady: 'HostNotReady',
  DockerError: 'DockerError',
  NameConflict: 'NameConflict',
  InvalidName: 'InvalidName',
  /** A spec field the host's Docker Engine is too old to honour (it would silently ignore it). */
  UnsupportedByEngine: 'UnsupportedByEngine',
  /** An external DockerVolume or DockerNetwork names no Docker object on the host. */
  ExternalNotFound: 'ExternalNotFound',
  RecreateRequired: 'RecreateRequired',
  PolicyViolation: 'PolicyViolation',

  // DockerImage (and a DockerContainer's own pull of spec.image).
  NotFound: 'NotFound',
  ImagePullCredentialsRejected: 'ImagePullCredentialsRejected',
  RegistryUnreachable: 'RegistryUnreachable',
  PullError: 'PullError',
  ImageNotPresent: 'ImageNotPresent',
  /** The host's imagePolicy denies the image (a Deny rule, or no rule and unmatched Deny). */
  ImagePolicyViolation: 'ImagePolicyViolation',
  /** The host's imagePolicy requires a signature the image's digest does not carry. */
  SignatureInvalid: 'SignatureInvalid',

  // DockerBuild.
  /** The build ran and failed (a step's command, a base image that cannot be pulled, a bad Dockerfile). */
  BuildFailed: 'BuildFailed',
  /** The context or an input cannot be used (not a tar, too large, dockerfileInline with a bzip2/xz context). */
  InvalidBuildContext: 'InvalidBuildContext',
  /** A push of the built image failed for another reason than credentials or a registry out of reach. */
  PushFailed: 'PushFailed',

  // DockerNetwork.
  DuplicateNetworks: 'DuplicateNetworks',

  // DockerContainer.
  DependenciesNotReady: 'DependenciesNotReady',
  ConfigMapNotFound: 'ConfigMapNotFound',
  /** spec.files resolve to more than the controller writes into a container (1 MiB). */
  FilesTooLarge: 'FilesTooLarge',
  /** The host's seccomp profile a container names cannot be read (ConfigMap or key missing, not JSON). */
  SeccompProfileUnavailable: 'SeccompProfileUnavailable',
  RemovedOutOfBand: 'RemovedOutOfBand',
  CrashLoopBackOff: 'CrashLoopBackOff',
  Unhealthy: 'Unhealthy',
  Failed: 'Failed',
  /** spec.dependsOn leads back to the container itself. */
  DependencyCycle: 'DependencyCycle',

  // DockerService: its rollout (Progressing, Available, RolledBack and Ready conditions).
  /** Every replica runs the revision the spec asks for and is Available. */
  RolloutComplete: 'RolloutComplete',
  /** Replicas are being replaced with a new revision. */
  RollingUpdate: 'RollingUpdate',
  /** No replica became Available within progressDeadlineSeconds. */
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  /** More replicas of the new revision failed than maxFailureRatio allows, and failureAction is Pause. */
  RolloutFailed: 'RolloutFailed',
  /** A failed rollout goes back to the last fully Available revision. */
  RollingBack: 'RollingBack',
  /** The replicas run the last fully Available revision, not the one the spec asks for. */
  RolledBack: 'RolledBack',
  /** spec.paused or the dockyard.io/paused annotation. */
  RolloutPaused: 'RolloutPaused',
  /** The canary replicas are Available; the rollout waits for dockyard.io/promote. */
  CanaryPaused: 'CanaryPaused',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  /** Replicated: fewer hosts can take a replica than the replicas need (maxPerHost, matching hosts). */
  InsufficientHosts: 'InsufficientHosts',

  // DockerComposeStack: its project and the resources it owns.
  /** The Compose files do not load (bad YAML, a missing required variable, an unknown key…). */
  InvalidCompose: 'InvalidCompose',
  /** A Compose key has no Dockyard equivalent and spec.allowUnsupported is not set. */
  UnsupportedComposeKeys: 'UnsupportedComposeKeys',
  /** A resource the stack would create exists already and is not the stack's. */
  ResourceConflict: 'ResourceConflict',
  /** Resources the stack owns are still being created, started or made healthy. */
  ResourcesNotReady: 'ResourcesNotReady',
  /** A resource the stack owns has failed (its own Ready=False reason says why). */
  ResourcesFailed: 'ResourcesFailed',

  // Fallback: a host reported itself stalled without a reason.
  Stalled: 'Stalled',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/**
 * Event reasons that are not condition reasons. An Event that repeats a
 * condition (a Warning NameConflict, PolicyViolation, a host's Unreachable…)
 * uses the condition's own `Reason` constant, so both read the same.
 */
export const EventReason = {
  // Normal: what Dockyard did.
  Created: 'Created',
  Updated: 'Updated',
  Recreated: 'Recreated',
  Adopted: 'Adopted',
  Pulled: 'Pulled',
  /** DockerBuild: a build started, and one finished. */
  Building: 'Building',
  Built: 'Built',
  /** DockerBuild: the image was pushed to a spec.push destination. */
  Pushed: 'Pushed',
  Kept: 'Kept',
  Stopping: 'Stopping',
  Stopped: 'Stopped',
  Healthy: 'Healthy',
  /** A run-to-completion container exited 0. */
  Completed: 'Completed',
  /** A finished container started again (dockyard.io/rerun). */
  Rerun: 'Rerun',
  DriftRepaired: 'DriftRepaired',
  WaitingForDependencies: 'WaitingForDependencies',
  DependencyNotReady: 'DependencyNotReady',
  HostReady: 'HostReady',
  Removed: 'Removed',
  DuplicateRemoved: 'DuplicateRemoved',
  Deleted: 'Deleted',
  Orphaned: 'Orphaned',
  /** Left a host because its placement changed. */
  Moved: 'Moved',
  /** Left a host because the host drains (not the DockerHost's Drained condition). */
  Drained: 'Drained',
  /** DockerService: a replica (DockerContainer) was created or removed. */
  ReplicaCreated: 'ReplicaCreated',
  ReplicaRemoved: 'ReplicaRemoved',
  /** DockerService: a rollout of a new revision began. */
  RolloutStarted: 'RolloutStarted',
  /** DockerService: a manual rollback was asked for (dockyard.io/rollback). */
  RollbackRequested: 'RollbackRequested',
  /** DockerService: the canary was promoted (dockyard.io/promote), or passed by itself. */
  CanaryPromoted: 'CanaryPromoted',

  // Warning: something went wrong and is retried.
  BackOff: 'BackOff',
  OOMKilled: 'OOMKilled',
  PullFailed: 'PullFailed',
  StopFailed: 'StopFailed',
  RecreateFailed: 'RecreateFailed',
  InsecureEndpoint: 'InsecureEndpoint',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

// --- by source: what the code that sets them may return ---------------------

/** Why a Docker host cannot be used (docker/errors.ts classifies errors into these). */
export const HOST_FAILURE_REASONS = [
  Reason.Unreachable,
  Reason.TLSError,
  Reason.Unauthorized,
  Reason.Timeout,
  Reason.DaemonError,
  Reason.ConfigError,
  Reason.AgentDisconnected,
] as const;
export type HostFailureReason = (typeof HOST_FAILURE_REASONS)[number];

/** Why a pull (or a registry check) failed (docker/image-client.ts classifies the daemon's answer). */
export const PULL_FAILURE_REASONS = [
  Reason.NotFound,
  Reason.Unauthorized,
  Reason.RegistryUnreachable,
  Reason.PullError,
] as const;
export type PullFailureReason = (typeof PULL_FAILURE_REASONS)[number];

/** Why a host takes no new object (the object is not placed there). */
export const REFUSAL_REASONS = [
  Reason.HostNotFound,
  Reason.NamespaceNotAllowed,
  Reason.HostUnschedulable,
  Reason.HostDraining,
  Reason.HostTerminating,
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Why an object stays on a host it would not be placed on today (PlacementMatched=False). */
export const MISMATCH_REASONS = [
  Reason.HostNoLongerMatches,
  Reason.NamespaceNoLongerAllowed,
  Reason.HostTerminating,
] as const;
export type MismatchReason = (typeof MISMATCH_REASONS)[number];

/** Why an object leaves a host it is placed on. */
export const REMOVAL_REASONS = [Reason.PlacementChanged, Reason.HostDraining] as const;
export type RemovalReason = (typeof REMOVAL_REASONS)[number];

/** A Secret or ConfigMap a container's environment reads is missing. */
export const ENV_FAILURE_REASONS = [
  Reason.SecretNotFound,
  Reason.ConfigMapNotFound,
  Reason.FilesTooLarge,
  Reason.SeccompProfileUnavailable,
] as const;
export type EnvFailureReason = (typeof ENV_FAILURE_REASONS)[number];

// --- by how they are reported ------------------------------------------------
// Every condition reason is in at least one of these (src/crds/reasons.test.ts).

/** Ready=True, or Reconciling=True with Ready=Unknown: nothing is wrong. */
export const HEALTHY_REASONS = [
  Reason.Converged,
  Reason.Connected,
  Reason.Progressing,
  Reason.RolloutComplete,
  Reason.RollingUpdate,
  Reason.MinimumReplicasAvailable,
] as const;

/**
 * DockerService: the revision the spec asks for is not what runs, and will
 * not be by itself (Ready=False). RollingBack is still moving (Reconciling);
 * the others are Stalled until the template changes. Argo CD shows Degraded:
 * a rollback is never reported as a successful update.
 */
export const ROLLOUT_FAILED_REASONS = [
  Reason.RollingBack,
  Reason.RolledBack,
  Reason.RolloutFailed,
  Reason.ProgressDeadlineExceeded,
] as const;

/** DockerService: a rollout someone holds (spec.paused, a Manual canary); Argo CD shows Suspended. */
export const SUSPENDED_REASONS = [Reason.RolloutPaused, Reason.CanaryPaused] as const;

/** Stalled=True: not retried until the spec or the host changes; Argo CD shows Degraded. */
export const STALLED_REASONS = [
  Reason.NameConflict,
  Reason.InvalidName,
  Reason.UnsupportedByEngine,
  Reason.RecreateRequired,
  Reason.PolicyViolation,
  Reason.ImagePolicyViolation,
  Reason.Failed,
  Reason.DependencyCycle,
  Reason.InvalidCompose,
  Reason.UnsupportedComposeKeys,
  Reason.ResourceConflict,
  Reason.Stalled,
] as const;

/**
 * Ready=False for something that comes by itself (the DockerNetworks,
 * DockerVolumes or DockerImage a container needs): Argo CD shows Progressing,
 * not Degraded, unless a host has failed (FAILED_PHASES).
 */
export const WAITING_REASONS = [Reason.DependenciesNotReady, Reason.ResourcesNotReady] as const;

/** Ready=False with Reconciling=True: broken now, retried with backoff; Argo CD shows Degraded. */
export const RETRIED_REASONS = [
  ...HOST_FAILURE_REASONS,
  Reason.SecretNotFound,
  Reason.NoMatchingHosts,
  Reason.HostNotFound,
  Reason.NamespaceNotAllowed,
  Reason.HostUnschedulable,
  Reason.HostDraining,
  Reason.HostTerminating,
  Reason.HostNotReady,
  Reason.DockerError,
  Reason.ExternalNotFound,
  Reason.NotFound,
  Reason.RegistryUnreachable,
  Reason.PullError,
  Reason.ImagePullCredentialsRejected,
  Reason.ImageNotPresent,
  Reason.SignatureInvalid,
  Reason.DuplicateNetworks,
  Reason.BuildFailed,
  Reason.InvalidBuildContext,
  Reason.PushFailed,
  Reason.ConfigMapNotFound,
  Reason.FilesTooLarge,
  Reason.SeccompProfileUnavailable,
  Reason.RemovedOutOfBand,
  Reason.CrashLoopBackOff,
  Reason.Unhealthy,
  Reason.MinimumReplicasUnavailable,
  Reason.InsufficientHosts,
  Reason.ResourcesFailed,
] as const;

/**
 * Conditions that never decide health (PlacementMatched, and a DockerHost's
 * Drained and Terminating), and removal reasons shown in a host entry and
 * the Moved Event.
 */
export const INFORMATIONAL_REASONS = [
  ...MISMATCH_REASONS,
  ...REMOVAL_REASONS,
  Reason.Draining,
  Reason.Drained,
  Reason.ObjectsStillPlaced,
] as const;

/**
 * Per-host phases that are failures whatever reason the object's Ready shows
 * first, so a host waiting for its dependencies does not hide another that
 * crash-loops. Each phase is named after the reason it reports.
 */
export const FAILED_PHASES = [
  Reason.CrashLoopBackOff,
  Reason.Unhealthy,
  Reason.Failed,
  Reason.PolicyViolation,
  Reason.NameConflict,
  Reason.HostNotReady,
] as const;
