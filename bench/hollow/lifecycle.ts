import { newId, rfc3339Nano } from './ids.js';
import type { Endpoint, HollowContainer, HollowNetwork, HostState } from './state.js';
import { macOf } from './container-json.js';

// State transitions of a hollow container and the events a real Engine 20.10
// emits for each, in its order (observed on a lab node; the conformance test
// compares them):
//   start:   network connect (each network) → volume mount (each) → container start
//   exit:    container die → network disconnect (each) → volume unmount (each)
//   stop:    kill(15) [→ kill(9) when the process ignores SIGTERM] → exit → container stop
//   kill:    kill(9) → exit
//   restart: stop → start → container restart
// There is no process: a started container runs until it is stopped or killed.

export function containerAttributes(
  c: HollowContainer,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...c.config.Labels, image: c.image, name: c.name, ...extra };
}

export function emitContainer(
  state: HostState,
  c: HollowContainer,
  action: string,
  extra?: Record<string, string>,
): void {
  state.events.emit('container', action, c.id, containerAttributes(c, extra));
}

function networkAttributes(n: HollowNetwork, c: HollowContainer): Record<string, string> {
  return { container: c.id, name: n.name, type: n.driver };
}

/** Hands out the next address of the network (no reuse: hollow hosts live for one run). */
export function assignAddress(n: HollowNetwork, ep: Endpoint): void {
  if (!n.subnet) return;
  const base = n.subnet.replace(/\.0\.0\/\d+$/, '');
  const host = n.nextHost++;
  ep.ip = ep.ipamConfig?.IPv4Address || `${base}.${Math.floor(host / 256)}.${host % 256}`;
  ep.mac = macOf(ep.ip);
}

/** Joins one network of a running container: a fresh endpoint and address, then the event. */
export function joinNetwork(state: HostState, c: HollowContainer, ep: Endpoint): void {
  const n = state.networks.get(ep.networkId);
  if (!n) return;
  ep.endpointId = newId();
  assignAddress(n, ep);
  // User-defined networks get the short ID as an alias, as the daemon adds it.
  if (!n.builtin && !(ep.aliases ?? []).includes(c.id.slice(0, 12)))
    ep.aliases = [...(ep.aliases ?? []), c.id.slice(0, 12)];
  state.events.emit('network', 'connect', n.id, networkAttributes(n, c));
}

export function leaveNetwork(state: HostState, c: HollowContainer, ep: Endpoint): void {
  const n = state.networks.get(ep.networkId);
  ep.endpointId = '';
  ep.ip = '';
  ep.mac = '';
  if (n) state.events.emit('network', 'disconnect', n.id, networkAttributes(n, c));
}

export function startContainer(state: HostState, c: HollowContainer): void {
  for (const ep of c.networks.values()) joinNetwork(state, c, ep);
  for (const m of c.mounts)
    if (m.type === 'volume')
      state.events.emit('volume', 'mount', m.name, {
        container: c.id,
        destination: m.destination,
        driver: 'local',
        propagation: '',
        'read/write': String(m.rw),
      });
  c.state = { ...c.state, status: 'running', exitCode: 0, pid: state.nextPid(), startedAt: rfc3339Nano() };
  emitContainer(state, c, 'start');
}

/** The process ended (killed, or it exited on SIGTERM). */
export function exitContainer(state: HostState, c: HollowContainer, exitCode: number): void {
  c.state = { ...c.state, status: 'exited', exitCode, pid: 0, finishedAt: rfc3339Nano() };
  emitContainer(state, c, 'die', { exitCode: String(exitCode) });
  for (const ep of c.networks.values()) leaveNetwork(state, c, ep);
  for (const m of c.mounts)
    if (m.type === 'volume')
      state.events.emit('volume', 'unmount', m.name, { container: c.id, driver: 'local' });
}

export function killContainer(state: HostState, c: HollowContainer, signal: number): void {
  emitContainer(state, c, 'kill', { signal: String(signal) });
  if (signal === 9) exitContainer(state, c, 137);
}

export interface StopBehaviour {
  /**
   * Whether the main process ignores SIGTERM. busybox `sleep` as PID 1 (the
   * lab's workload) has no handler, so the kernel drops the signal and the
   * daemon kills it after the grace period: exit code 137.
   */
  ignoresSigterm: boolean;
  /** Caps the grace period a stop waits (the bench may not want 10 s per stop); default: no cap. */
  maxGraceMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Stops a running container the way the daemon does; resolves when it is stopped. */
export async function stopContainer(
  state: HostState,
  c: HollowContainer,
  graceSeconds: number,
  behaviour: StopBehaviour,
): Promise<void> {
  killContainer(state, c, 15);
  if (behaviour.ignoresSigterm) {
    await sleep(Math.min(Math.max(0, graceSeconds) * 1000, behaviour.maxGraceMs ?? Infinity));
    // Someone else (a kill, a forced remove) may have ended it meanwhile.
    if (c.state.status === 'running') killContainer(state, c, 9);
  } else if (c.state.status === 'running') exitContainer(state, c, 143);
  emitContainer(state, c, 'stop');
}
