import type { DockerVolumeSpec } from '../crds/dockervolume.js';
import { parseAddress, parseCidr, contains } from './cidr.js';
import {
  asHostPolicy,
  formatBytes,
  mapField,
  type HostPolicy,
  type SecurityPolicy,
  type Violation,
} from './policy-types.js';

/** A tmpfs (volume or mount) is memory: below privileged it needs a size, at most this. */
export const MAX_TMPFS_BYTES = 1024 * 1024 * 1024;

/** The only driver below privileged: plugins can do anything on the host. */
export const VOLUME_DRIVERS: ReadonlySet<string> = new Set(['local']);
/** The local driver's three options; nothing else is passed on below privileged. */
export const VOLUME_OPTION_KEYS: ReadonlySet<string> = new Set(['type', 'o', 'device']);

/**
 * File system types per level. Not a host file system (ext4 on /dev/sda1),
 * not a pseudo file system (proc, sysfs, devpts…), not overlay (its layers
 * are host directories), not `none` (a bind in disguise): memory, or a
 * network file system at baseline, as the Pod Security Standards allow NFS.
 */
export const VOLUME_TYPES: Record<'baseline' | 'restricted', ReadonlySet<string>> = {
  baseline: new Set(['tmpfs', 'nfs', 'nfs4', 'cifs']),
  restricted: new Set(['tmpfs']),
};

type ValueCheck = (value: string) => string | undefined;

const digits: ValueCheck = (v) => (/^[0-9]{1,10}$/.test(v) ? undefined : 'must be a whole number');
const octal: ValueCheck = (v) => (/^[0-7]{3,4}$/.test(v) ? undefined : 'must be an octal mode such as 1777');
const word: ValueCheck = (v) => (/^[A-Za-z0-9_.@-]{1,128}$/.test(v) ? undefined : 'must be a plain word');
const oneOf =
  (...allowed: string[]): ValueCheck =>
  (v) =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`;

function isLoopback(host: string): boolean {
  const addr = parseAddress(host.replace(/^\[|\]$/g, ''));
  if (!addr) return /^localhost\.?$/i.test(host);
  const loopback = addr.family === 4 ? parseCidr('127.0.0.0/8') : parseCidr('::1/128');
  const any = addr.family === 4 ? parseCidr('0.0.0.0/32') : parseCidr('::/128');
  return [loopback, any].some((n) => n !== undefined && contains(n, addr));
}

/** A file server address: a host name or IP, never the host itself (that would reach its own exports). */
const server: ValueCheck = (v) => {
  if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(v)) return 'must be a host name or IP address';
  return isLoopback(v) ? 'must not be the host itself (loopback)' : undefined;
};

const tmpfsSize: ValueCheck = (v) => {
  const m = /^([0-9]{1,13})([kKmMgG]?)$/.exec(v);
  if (!m) return 'must be a size such as 64m (no % of memory)';
  const bytes = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (bytes <= 0) return 'must be above 0';
  return bytes > MAX_TMPFS_BYTES ? `is above the cap of ${formatBytes(MAX_TMPFS_BYTES)}` : undefined;
};

/** Flags any type may carry: they only take rights away. */
const SAFE_FLAGS = ['ro', 'rw', 'nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'relatime'];

interface TypeRule {
  flags: string[];
  keyed: Record<string, ValueCheck>;
  device: { pattern: RegExp; hint: string; server?: (device: string) => string };
}

/** Mount options and the device per allowed type. Keys not here (bind, lowerdir=, credentials=…) are refused. */
export const VOLUME_TYPE_RULES: Record<string, TypeRule> = {
  tmpfs: {
    flags: SAFE_FLAGS,
    keyed: { size: tmpfsSize, mode: octal, uid: digits, gid: digits, nr_inodes: digits },
    device: { pattern: /^[A-Za-z0-9_.-]{1,64}$/, hint: 'a plain name such as tmpfs' },
  },
  nfs: nfsRule(),
  nfs4: nfsRule(),
  cifs: {
    flags: [...SAFE_FLAGS, 'nounix', 'noserverino', 'nobrl'],
    keyed: {
      addr: server,
      username: word,
      password: (v) =>
        /^[^,/\s]{0,256}$/.test(v) ? undefined : 'must not contain commas, slashes or spaces',
      domain: word,
      vers: (v) => (/^[0-9.]{1,5}$/.test(v) ? undefined : 'must be a version such as 3.0'),
      uid: digits,
      gid: digits,
      file_mode: octal,
      dir_mode: octal,
      port: digits,
      sec: word,
    },
    device: {
      pattern: /^\/\/[A-Za-z0-9.:[\]-]+\/[^,\s]+$/,
      hint: '//server/share',
      server: (d) => d.slice(2, d.indexOf('/', 2)),
    },
  },
};

function nfsRule(): TypeRule {
  return {
    flags: [...SAFE_FLAGS, 'hard', 'soft', 'nolock', 'noac', 'tcp', 'udp'],
    keyed: {
      addr: server,
      vers: oneOf('2', '3', '4', '4.0', '4.1', '4.2'),
      nfsvers: oneOf('2', '3', '4', '4.0', '4.1', '4.2'),
      proto: oneOf('tcp', 'udp', 'tcp6', 'udp6', 'rdma'),
      port: digits,
      timeo: digits,
      retrans: digits,
      rsize: digits,
      wsize: digits,
      actimeo: digits,
      sec: oneOf('sys', 'krb5', 'krb5i', 'krb5p', 'none'),
    },
    device: {
      pattern: /^[A-Za-z0-9.[\]-]*:\/[^,\s]*$/,
      hint: 'server:/export or :/export (with addr=)',
      server: (d) => d.slice(0, d.indexOf(':/')),
    },
  };
}

function checkMountOptions(o: string, type: string, rule: TypeRule): Violation[] {
  const field = 'spec.driverOptions.o';
  const v: Violation[] = [];
  // Exact spelling, as the local driver splits them: " rbind" is no more allowed than "rbind".
  for (const option of o.split(',')) {
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    if (eq < 0 && rule.flags.includes(option)) continue;
    const check = eq >= 0 && Object.hasOwn(rule.keyed, key) ? rule.keyed[key] : undefined;
    if (!check) {
      v.push({
        field,
        message: `mount option ${JSON.stringify(option)} is not allowed for a ${type} volume`,
      });
      continue;
    }
    const problem = check(option.slice(eq + 1));
    if (problem) v.push({ field, message: `mount option ${key}: ${problem}` });
  }
  return v;
}

function checkDevice(device: string, type: string, rule: TypeRule): Violation[] {
  const field = 'spec.driverOptions.device';
  if (!rule.device.pattern.test(device)) {
    return [
      {
        field,
        message: `device ${device} is not allowed for a ${type} volume (expected ${rule.device.hint})`,
      },
    ];
  }
  const host = rule.device.server?.(device);
  if (host && isLoopback(host))
    return [{ field, message: `device ${device} names the host itself (loopback)` }];
  return [];
}

function checkTyped(opts: Record<string, string>, level: 'baseline' | 'restricted'): Violation[] {
  const type = opts.type;
  if (type === undefined) {
    return [
      { field: 'spec.driverOptions.type', message: `driver options need an allowed type under ${level}` },
    ];
  }
  const rule = VOLUME_TYPES[level].has(type) ? VOLUME_TYPE_RULES[type] : undefined;
  if (!rule) {
    return [
      {
        field: 'spec.driverOptions.type',
        message: `volume type ${type} is not allowed under ${level} (only ${[...VOLUME_TYPES[level]].join(', ')})`,
      },
    ];
  }
  const v = [
    ...(opts.o !== undefined ? checkMountOptions(opts.o, type, rule) : []),
    ...(opts.device !== undefined ? checkDevice(opts.device, type, rule) : []),
  ];
  const sized = (opts.o ?? '').split(',').some((o) => o.startsWith('size='));
  if (type === 'tmpfs' && !sized) {
    v.push({
      field: 'spec.driverOptions.o',
      message: `a tmpfs volume needs o=size=… (at most ${formatBytes(MAX_TMPFS_BYTES)})`,
    });
  }
  return v;
}

/**
 * Below privileged a volume is the local driver with allow-listed options
 * only: `type` from the level's list, `o` made of allow-listed mount options
 * (no bind, no overlay layers, no credentials file), `device` of the form the
 * type needs (never a host path, so no host block device in any spelling).
 */
export function checkVolumePolicy(policy: SecurityPolicy | HostPolicy, spec: DockerVolumeSpec): Violation[] {
  const { level, settings } = asHostPolicy(policy);
  if (level === 'privileged') return [];
  // Nothing is created: the only question is whether this existing volume may be used.
  if (spec.external)
    return checkExternal({
      kind: 'volume',
      name: spec.volumeName,
      level,
      allowed: settings.allowedExternalVolumes,
    });
  const v: Violation[] = [];
  const driver = spec.driver ?? 'local';
  if (!VOLUME_DRIVERS.has(driver)) {
    v.push({
      field: 'spec.driver',
      message: `volume driver ${driver} is not allowed under ${level} (only local)`,
    });
  }
  const opts = spec.driverOptions ?? {};
  for (const key of Object.keys(opts)) {
    if (!VOLUME_OPTION_KEYS.has(key)) {
      v.push({
        field: mapField('spec.driverOptions', key),
        message: `driver option ${key} is not allowed under ${level} (only type, o and device)`,
      });
    }
  }
  if (Object.keys(opts).length > 0) v.push(...checkTyped(opts, level));
  return v;
}

/**
 * An external volume or network is an object on the host that no namespace
 * owns: any tenant referring to it shares it with whoever else uses it (an
 * administrator's data, another application's network). So below privileged
 * only the names the administrator listed for this host.
 */
export function checkExternal(opts: {
  kind: 'volume' | 'network';
  name: string | undefined;
  level: string;
  allowed: readonly string[] | undefined;
}): Violation[] {
  const { kind, name = '', level } = opts;
  if ((opts.allowed ?? []).includes(name)) return [];
  const setting = kind === 'volume' ? 'allowedExternalVolumes' : 'allowedExternalNetworks';
  return [
    {
      field: 'spec.external',
      message: `the existing Docker ${kind} ${name} is not in this host's securityPolicySettings.${setting} (required under ${level})`,
    },
  ];
}
