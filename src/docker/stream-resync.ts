import { Counter, type Registry } from 'prom-client';

/**
 * Why a host's Docker event stream just connected with a possible gap behind
 * it. Docker replays at most its last 256 events for `since`, so after any gap
 * the stream alone cannot be trusted to have reported every change.
 */
export type ResyncReason =
  /** The same stream dropped and connected again (network blip, daemon restart). */
  | 'reconnected'
  /** A new stream replaced one that was stopped (host NotReady, paused, blocked by a test). */
  | 'restarted';

export interface StreamConnect {
  /** This stream instance had been connected before (so it was disconnected in between). */
  streamConnectedBefore: boolean;
  /** Some earlier stream of this host had been connected (since the host was last forgotten). */
  hostConnectedBefore: boolean;
}

/**
 * Decides whether a stream connect must resync every object on the host. The
 * very first connect of a host needs none: the controllers list and reconcile
 * every object when they start or when the host turns Ready. Every later
 * connect follows a gap in which changes may have gone unreported.
 */
export function resyncReason(connect: StreamConnect): ResyncReason | undefined {
  if (connect.streamConnectedBefore) return 'reconnected';
  if (connect.hostConnectedBefore) return 'restarted';
  return undefined;
}

export interface StreamResyncMetrics {
  resync(host: string, reason: ResyncReason): void;
}

/** `dockyard_docker_event_stream_resyncs_total{host,reason}`. */
export function createStreamResyncMetrics(registry: Registry): StreamResyncMetrics {
  const resyncs = new Counter({
    name: 'dockyard_docker_event_stream_resyncs_total',
    help: 'Resyncs of every object on a host because its Docker event stream connected after a gap',
    labelNames: ['host', 'reason'] as const,
    registers: [registry],
  });
  return { resync: (host, reason) => resyncs.inc({ host, reason }) };
}

export const noopStreamResyncMetrics: StreamResyncMetrics = { resync: () => {} };
