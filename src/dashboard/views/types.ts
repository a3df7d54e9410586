// What the dashboard's server sends the browser: rows already computed from
// the API objects (views/*.ts), so the page only renders. Type-only: the
// browser bundle imports these types and nothing else from the server side.

/** A condition as a cell shows it. */
export interface ConditionCell {
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  /** lastTransitionTime (RFC 3339). */
  since?: string;
}

/** Whether a host answers: through its heartbeat, or its agent's tunnel. */
export type HostConnection = 'connected' | 'disconnected' | 'pending';

/** One DockerHost in the fleet grid. */
export interface HostRow {
  key: string;
  name: string;
  /** unix, tcp, tcp+tls or agent (status.connection). */
  mode?: string;
  connection: HostConnection;
  ready: ConditionCell;
  /** When the host last answered: the agent's last-seen time, else the last heartbeat written. */
  lastSeen?: string;
  /** Not connected: since when nothing it says is known (its Ready transition). */
  unknownSince?: string;
  engineVersion?: string;
  policy: string;
  /** Docker's own counts from the last heartbeat. */
  containers?: { total: number; running: number; managed?: number };
  /** Dockyard objects placed on this host, by how they are there. */
  placed: { total: number; ready: number; notReady: number; unknown: number };
  /** DriftRepaired Events about this host still kept by the API server (1 h by default). */
  driftRepairs: number;
  /** Objects this host's policy refuses now (their per-host phase is PolicyViolation). */
  policyRefusals: number;
  agent?: { version?: string; connectedSince?: string; reconnects?: number; roundTripMs?: number };
  unschedulable: boolean;
}

/** One container on one host: a DockerContainer's entry for that host. */
export interface ContainerRow {
  key: string;
  namespace: string;
  /** The DockerContainer. */
  name: string;
  host: string;
  /** The Docker container's name on the host. */
  containerName?: string;
  /** The DockerService or DockerComposeStack that owns it. */
  owner?: { kind: string; name: string };
  image: string;
  phase: string;
  /** Docker's state and health there. */
  state?: string;
  health?: string;
  /** What the health column says: names the failing container and why. */
  healthText: string;
  healthy: 'ok' | 'failing' | 'pending' | 'unknown';
  ready: ConditionCell;
  restarts?: number;
  message?: string;
  unknownSince?: string;
}

/** Any Dockyard object, for the object list and the link targets. */
export interface ObjectRow {
  key: string;
  kind: string;
  namespace?: string;
  name: string;
  ready: ConditionCell;
  phase?: string;
  hostsReady?: string;
}

export type ViewName = 'hosts' | 'containers' | 'objects';

/** Which resources this viewer may list and watch, and where. */
export interface Access {
  /** Resource (plural.group) → all namespaces, the listed ones, or none. */
  resources: Record<
    string,
    { scope: 'cluster' | 'namespaces'; namespaces?: string[] } | { scope: 'forbidden' }
  >;
}

export interface DashboardState {
  generatedAt: string;
  access: Access;
  hosts: HostRow[];
  containers: ContainerRow[];
  objects: ObjectRow[];
}

/** One host's part of an object. */
export interface ObjectHostCell {
  name: string;
  phase: string;
  message?: string;
  lastUpdateTime?: string;
  /** A pull in progress: bytes overall, and per layer where the status has them. */
  pull?: {
    percent: number;
    currentBytes: number;
    totalBytes: number;
    layers?: Array<{ id: string; status: string; currentBytes?: number; totalBytes?: number }>;
  };
  extra: Array<[string, string]>;
}

export interface EventCell {
  time: string;
  type: string;
  reason: string;
  note: string;
  count: number;
  host?: string;
}

/** A DockerService's rollout, as its page shows it. */
export interface RolloutCell {
  phase?: string;
  revision?: number;
  currentRevision?: string;
  updateRevision?: string;
  stableRevision?: string;
  desired?: number;
  ready?: number;
  updated?: number;
  available?: number;
  message?: string;
  replicas: Array<{ name: string; host?: string; revision?: string; slot?: string; ready: ConditionCell }>;
}

export interface ObjectDetail {
  key: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The spec's top-level fields, one line each. */
  spec: Array<[string, string]>;
  conditions: Array<ConditionCell & { type: string }>;
  hosts: ObjectHostCell[];
  events: EventCell[];
  rollout?: RolloutCell;
}

/** What the stream sends. */
export type StreamMessage =
  | { type: 'state'; state: DashboardState }
  | { type: 'patch'; view: ViewName; upsert: unknown[]; remove: string[]; generatedAt: string }
  /** Something changed (rows or Events): an object page fetches itself again. */
  | { type: 'tick'; generatedAt: string };
