// The heartbeat asks a daemon two things: is it alive (/_ping), and what is
// it (/info, /version and a count of our containers). The first must be
// asked every heartbeat; the second changes rarely and costs three requests
// and their JSON. Like the kubelet, which renews its Lease every 10 s but
// sends its full node status only every few minutes or on a change, a Ready
// host is pinged every heartbeat and described again once its facts are
// older than FACTS_REFRESH_MS. At 1,000 hosts the full heartbeat was a sixth
// of the controller's CPU (bench/results/profile.md).

import type { HostFacts } from '../../docker/host-probe.js';
import { CONTAINER_COUNTS_REPORT_MS } from './host-status.js';

/** Facts are asked for again after this long: the counts are not written more often anyway. */
export const FACTS_REFRESH_MS = CONTAINER_COUNTS_REPORT_MS;

interface Entry {
  facts: HostFacts;
  /** The connection the facts came through (endpoint and TLS material). */
  fingerprint: string;
  at: number;
}

export class HostFactsCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly refreshMs = FACTS_REFRESH_MS) {}

  /** Facts still fresh for `host` reached through `fingerprint`; undefined when a full probe is due. */
  fresh(host: string, fingerprint: string, now: number): HostFacts | undefined {
    const entry = this.entries.get(host);
    if (!entry || entry.fingerprint !== fingerprint || now - entry.at >= this.refreshMs) return undefined;
    return entry.facts;
  }

  remember(host: string, entry: Entry): void {
    this.entries.set(host, entry);
  }

  /** After a failed heartbeat or once the host is gone: the next success describes the daemon again. */
  forget(host: string): void {
    this.entries.delete(host);
  }
}
