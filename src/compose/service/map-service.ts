// One Compose service → the spec of a DockerContainer (or of a DockerService's
// replicas): each key through the table in keys.ts, in the table's order.

import { SERVICE_KEYS } from './keys.js';
import type { ServiceContext, ServiceDraft } from './context.js';

/** Keys the loader fills in with null or empty defaults that mean "unset". */
function isUnset(value: unknown): boolean {
  return value === null || value === undefined;
}

export function mapService(ctx: ServiceContext): ServiceDraft {
  const draft: ServiceDraft = { spec: {}, replicas: 1 };
  const base = `services.${ctx.serviceName}`;
  for (const [key, handling] of SERVICE_KEYS) {
    const value = ctx.service[key];
    if (isUnset(value)) continue;
    if ('map' in handling) handling.map(value, draft, ctx, `${base}.${key}`);
    else if ('unsupported' in handling) ctx.findings.unsupported(`${base}.${key}`, handling.unsupported);
  }
  for (const key of Object.keys(ctx.service)) {
    if (!SERVICE_KEYS.has(key) && !isUnset(ctx.service[key])) {
      ctx.findings.unsupported(`${base}.${key}`, 'Dockyard has no equivalent');
    }
  }
  if (!draft.spec.image)
    ctx.findings.unsupported(`${base}.image`, 'a service needs an image (Dockyard does not build)');
  // Neither restart nor deploy.restart_policy: Compose does not restart the
  // container, where a DockerContainer's own default is unless-stopped.
  draft.spec.restartPolicy ??= { name: 'no' };
  return draft;
}
