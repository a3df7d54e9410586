import type { DockerContainer } from '../../crds/dockercontainer.js';
import { Reason } from '../../crds/reasons.js';
import { engineProblems } from '../../docker/container-spec/engine-support.js';
import type { HostContext, HostOutcome } from '../../managed/types.js';

/**
 * The outcome when the spec asks for something the host's engine would
 * silently ignore (engine-support.ts), or undefined when the engine honours
 * all of it. Nothing is done in Docker: no container is created, and one
 * already running an older spec stays as it is. Stalled: it does not fix
 * itself until the host's engine or the spec changes. The Warning Event is
 * recorded when the host first enters this phase (named after the reason),
 * not on every poll, as invalidNameOutcome does.
 */
export function unsupportedByEngineOutcome(ctx: HostContext<DockerContainer>): HostOutcome | undefined {
  const apiVersion = ctx.host.status?.engine?.apiVersion;
  const problems = engineProblems(ctx.obj.spec, apiVersion);
  if (problems.length === 0) return undefined;
  const hostName = ctx.host.metadata.name;
  const message = `DockerHost ${hostName} cannot honour ${problems.map((p) => `${p.field} (${p.message})`).join('; ')}`;
  if (ctx.previous?.phase !== Reason.UnsupportedByEngine)
    ctx.events.event(ctx.obj, 'Warning', Reason.UnsupportedByEngine, 'Create', message);
  return {
    entry: { ...(ctx.previous ?? {}), name: hostName, phase: Reason.UnsupportedByEngine, message },
    ready: false,
    stalled: { reason: Reason.UnsupportedByEngine, message },
  };
}
