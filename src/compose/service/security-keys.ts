// Service keys that decide the container's privileges and namespaces. Each
// lands in spec.security, which the host's securityPolicy decides (allow-list)
// before anything reaches Docker, as for a hand-written DockerContainer.

import type { ContainerTemplateSpec } from '../../crds/dockerservice.js';
import { asRecord, asStrings, type ServiceContext, type ServiceDraft, type ServiceKey } from './context.js';

type Security = NonNullable<ContainerTemplateSpec['security']>;

function setSecurity(draft: ServiceDraft, security: Partial<Security>): void {
  draft.spec.security = { ...draft.spec.security, ...security };
}

/** A namespace key (pid, ipc, uts, cgroup, userns_mode) whose values Dockyard knows, as the same values. */
function namespaceKey<F extends 'pidMode' | 'ipcMode' | 'utsMode' | 'cgroupnsMode' | 'usernsMode'>(
  field: F,
  allowed: readonly NonNullable<Security[F]>[],
): ServiceKey {
  return {
    map: (value, draft, ctx, path) => {
      if ((allowed as readonly unknown[]).includes(value))
        setSecurity(draft, { [field]: value } as Partial<Security>);
      else ctx.findings.unsupported(path, `${String(value)}: Dockyard supports ${allowed.join(', ')}`);
    },
  };
}

/** security_opt: no-new-privileges, seccomp and apparmor as Dockyard names them; label= has no equivalent. */
function mapSecurityOpt(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  for (const opt of asStrings(value)) {
    const [key, setting = 'true'] = opt.split(/[=:]/, 2);
    if (key === 'no-new-privileges') setSecurity(draft, { noNewPrivileges: setting === 'true' });
    else if (key === 'seccomp' && setting === 'unconfined')
      setSecurity(draft, { seccompProfile: { type: 'Unconfined' } });
    else if (key === 'apparmor' && setting === 'unconfined')
      setSecurity(draft, { appArmorProfile: { type: 'Unconfined' } });
    else if (key === 'apparmor')
      setSecurity(draft, { appArmorProfile: { type: 'Localhost', localhostProfile: setting } });
    else {
      ctx.findings.unsupported(
        `${path}[${opt}]`,
        key === 'seccomp'
          ? 'a seccomp profile file: name a profile of the host’s securityPolicySettings.seccompProfiles instead'
          : 'Dockyard has no equivalent',
      );
    }
  }
}

export const SECURITY_KEYS: Record<string, ServiceKey> = {
  privileged: { map: (v, draft) => v === true && setSecurity(draft, { privileged: true }) },
  read_only: { map: (v, draft) => v === true && setSecurity(draft, { readOnlyRootFilesystem: true }) },
  cap_add: { map: (v, draft) => setSecurity(draft, { capAdd: asStrings(v) }) },
  cap_drop: { map: (v, draft) => setSecurity(draft, { capDrop: asStrings(v) }) },
  group_add: { map: (v, draft) => setSecurity(draft, { groupAdd: asStrings(v) }) },
  device_cgroup_rules: { map: (v, draft) => setSecurity(draft, { deviceCgroupRules: asStrings(v) }) },
  devices: {
    map: (value, draft) => {
      const devices = (Array.isArray(value) ? value : []).map((d) => {
        const dev = asRecord(d);
        return {
          hostPath: String(dev.source),
          ...(dev.target ? { containerPath: String(dev.target) } : {}),
          ...(dev.permissions ? { permissions: String(dev.permissions) } : {}),
        };
      });
      setSecurity(draft, { devices });
    },
  },
  security_opt: { map: mapSecurityOpt },
  pid: namespaceKey('pidMode', ['host']),
  ipc: namespaceKey('ipcMode', ['private', 'shareable', 'host']),
  uts: namespaceKey('utsMode', ['host']),
  cgroup: namespaceKey('cgroupnsMode', ['private', 'host']),
  userns_mode: namespaceKey('usernsMode', ['host']),
};
