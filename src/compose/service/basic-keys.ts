// Service keys that carry over one to one: what runs, as whom, with which
// environment, names, labels, logging and stop behaviour.

import { asRecord, asStrings, type ServiceKey } from './context.js';

const setString =
  (
    field: 'image' | 'workingDir' | 'user' | 'hostname' | 'stopSignal' | 'stopGracePeriod' | 'containerName',
  ) =>
  (value: unknown, draft: { spec: Record<string, unknown> }) => {
    if (typeof value === 'string' && value !== '') draft.spec[field] = value;
  };

const setFlag =
  (field: 'init' | 'tty' | 'stdinOpen') => (value: unknown, draft: { spec: Record<string, unknown> }) => {
    if (typeof value === 'boolean') draft.spec[field] = value;
  };

export const BASIC_KEYS: Record<string, ServiceKey> = {
  image: { map: setString('image') },
  // Compose's command replaces the image CMD, its entrypoint the ENTRYPOINT.
  command: {
    map: (value, draft) => {
      if (Array.isArray(value)) draft.spec.args = asStrings(value);
    },
  },
  entrypoint: {
    map: (value, draft) => {
      if (Array.isArray(value)) draft.spec.command = asStrings(value);
    },
  },
  working_dir: { map: setString('workingDir') },
  user: { map: setString('user') },
  hostname: { map: setString('hostname') },
  container_name: { map: setString('containerName') },
  stop_signal: { map: setString('stopSignal') },
  stop_grace_period: { map: setString('stopGracePeriod') },
  init: { map: setFlag('init') },
  tty: { map: setFlag('tty') },
  stdin_open: { map: setFlag('stdinOpen') },
  environment: {
    // A variable the loader could not resolve (`FOO` alone, unset) is not
    // passed, as docker compose does not pass it.
    map: (value, draft) => {
      const env = Object.entries(asRecord(value))
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, v]) => ({ name, value: v }));
      if (env.length > 0) draft.spec.env = env;
    },
  },
  labels: {
    map: (value, draft) => {
      const labels = Object.fromEntries(Object.entries(asRecord(value)).map(([k, v]) => [k, String(v)]));
      if (Object.keys(labels).length > 0) draft.spec.labels = labels;
    },
  },
  logging: {
    map: (value, draft, ctx, path) => {
      const logging = asRecord(value);
      if (typeof logging.driver !== 'string') {
        if (logging.options) ctx.findings.unsupported(`${path}.options`, 'log options without a driver');
        return;
      }
      const options = asRecord(logging.options) as Record<string, string>;
      draft.spec.logging = {
        driver: logging.driver,
        ...(Object.keys(options).length > 0 ? { options } : {}),
      };
    },
  },
  extra_hosts: {
    // Loaded as "host=ip"; Dockyard groups hostnames by address.
    map: (value, draft) => {
      const byIp = new Map<string, string[]>();
      for (const entry of asStrings(value)) {
        const at = entry.indexOf('=');
        const [host, ip] = [entry.slice(0, at), entry.slice(at + 1)];
        byIp.set(ip, [...(byIp.get(ip) ?? []), host]);
      }
      if (byIp.size > 0) draft.spec.hostAliases = [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
    },
  },
  dns: {
    map: (value, draft) => {
      draft.spec.dnsConfig = { ...draft.spec.dnsConfig, nameservers: asStrings(value) };
    },
  },
  dns_search: {
    map: (value, draft) => {
      draft.spec.dnsConfig = { ...draft.spec.dnsConfig, searches: asStrings(value) };
    },
  },
  dns_opt: {
    // "ndots:2" → {name: ndots, value: "2"}, "rotate" → {name: rotate}.
    map: (value, draft) => {
      const options = asStrings(value).map((opt) => {
        const at = opt.indexOf(':');
        return at < 0 ? { name: opt } : { name: opt.slice(0, at), value: opt.slice(at + 1) };
      });
      draft.spec.dnsConfig = { ...draft.spec.dnsConfig, options };
    },
  },
  sysctls: {
    map: (value, draft) => {
      const sysctls = Object.fromEntries(Object.entries(asRecord(value)).map(([k, v]) => [k, String(v)]));
      if (Object.keys(sysctls).length > 0) draft.spec.sysctls = sysctls;
    },
  },
  ulimits: {
    // `nproc: 50` (single) is soft = hard = 50. The loader leaves out zero
    // fields: `core: 0` arrives as {} and `{soft: 0, hard: 10}` as {hard: 10},
    // which docker compose sends as 0.
    map: (value, draft) => {
      const ulimits = Object.entries(asRecord(value))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, limit]) => {
          const l = asRecord(limit);
          const single = typeof limit === 'number' ? limit : Number(l.single ?? 0);
          return l.soft === undefined && l.hard === undefined
            ? { name, soft: single, hard: single }
            : { name, soft: Number(l.soft ?? 0), hard: Number(l.hard ?? 0) };
        });
      draft.spec.ulimits = ulimits as NonNullable<typeof draft.spec.ulimits>;
    },
  },
};
