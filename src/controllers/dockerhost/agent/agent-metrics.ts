// The edge agents' metrics: gauges read from the tunnel hub at scrape time, so
// they never lag the tunnels (served by the leader, which holds them).

import { Gauge, type Registry } from 'prom-client';
import type { AgentConnectionState } from '../../../agent/tunnel-hub.js';

export type AgentStates = () => Array<{ host: string; state: AgentConnectionState }>;

/** Registers dockyard_agent_* on `registry`; `states` is called at each scrape. */
export function createAgentMetrics(registry: Registry, states: AgentStates): void {
  const gauge = (
    name: string,
    help: string,
    value: (state: AgentConnectionState, now: number) => number | undefined,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['host'],
      registers: [registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const { host, state } of states()) {
          const v = value(state, now);
          if (v !== undefined) this.set({ host }, v);
        }
      },
    });
  gauge(
    'dockyard_agent_connected',
    "Whether the DockerHost's edge agent holds a tunnel to this controller (1) or not (0).",
    (s) => (s.connected ? 1 : 0),
  );
  gauge(
    'dockyard_agent_connected_seconds',
    "How long the edge agent's current tunnel has been up (0 while disconnected).",
    (s, now) => (s.connected && s.connectedSince ? (now - s.connectedSince.getTime()) / 1000 : 0),
  );
  gauge(
    'dockyard_agent_reconnects',
    'Tunnels the edge agent opened after its first one since this controller started.',
    (s) => s.reconnects,
  );
  gauge(
    'dockyard_agent_round_trip_seconds',
    "Round-trip time of the last heartbeat (HTTP/2 ping) through the edge agent's tunnel.",
    (s) => (s.rttMs === undefined ? undefined : s.rttMs / 1000),
  );
}
