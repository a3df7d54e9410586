// Hollow Docker hosts: in-memory Engine API servers for scale benchmarks only
// (see README.md). Never imported by src/ or by functional tests
// (scripts/hollow-isolation.test.ts enforces it).
import { HollowFleet, type HollowHost, type HollowHostOptions } from './fleet.js';

export { HollowFleet, type HollowHost, type HollowHostOptions };
export type { ImageSeed, ImageConfig } from './state.js';

/** One hollow host in its own fleet; stop() frees everything. */
export async function startHollowHost(opts: HollowHostOptions): Promise<HollowHost> {
  const fleet = new HollowFleet();
  const host = await fleet.addHost(opts);
  return { ...host, state: host.state, stop: () => fleet.stop() };
}

/**
 * `count` hollow hosts sharing one HTTP server, e.g. 1,000 edge hosts at
 * 100 ± 20 ms: `startHollowHosts(1000, (i) => ({ name: `edge-${i}`, latencyMs: 100, jitterMs: 20 }))`.
 */
export async function startHollowHosts(
  count: number,
  options: (index: number) => HollowHostOptions,
): Promise<{ hosts: HollowHost[]; fleet: HollowFleet; stop(): Promise<void> }> {
  const fleet = new HollowFleet();
  const hosts: HollowHost[] = [];
  try {
    // Sequentially: 1,000 listens at once gain nothing and make errors harder to attribute.
    for (let i = 0; i < count; i++) hosts.push(await fleet.addHost(options(i)));
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  return { hosts, fleet, stop: () => fleet.stop() };
}
