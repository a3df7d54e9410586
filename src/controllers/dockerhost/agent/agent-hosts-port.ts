// What the DockerHost reconciler needs of the agent endpoint, so it can be
// tested without one and runs unchanged when the controller serves none.

import type { AgentStatus, DockerHost } from '../../../crds/dockerhost.js';

/** One agent-connected host, as its heartbeat sees it. */
export interface AgentHostView {
  /** unix:// socket whose requests travel through the host's tunnel. */
  endpoint: string;
  connected: boolean;
  /** status.agent, as of now. */
  status: AgentStatus;
}

export interface AgentHostsPort {
  /** Keeps the host's bootstrap Secret and local socket, and reports its tunnel. */
  prepare(host: DockerHost): Promise<AgentHostView>;
  /** The host is gone or released: close its socket and tunnel. */
  forget(hostName: string): void;
}
