// Spec → Docker create options for the process and runtime fields: terminal,
// init, kernel parameters, resource limits, /dev/shm, /etc/hosts and
// /etc/resolv.conf, and the healthcheck's test. Pure; only what the spec sets.
// None of them can change in place: POST /containers/{id}/update takes no
// Ulimits, ShmSize or Sysctls (Engine 20.10 ignores them), so each is in the
// recreate hash (recreate-hash.ts).
import type Dockerode from 'dockerode';
import { parseByteQuantity } from '../../crds/quantities.js';
import { emptyToUndefined, nonEmpty, nonEmptyMap, sortedBy, trueOrUndefined, type Spec } from './inputs.js';

type CreateOptions = Dockerode.ContainerCreateOptions;
type HostConfig = Dockerode.HostConfig;
type Ulimit = NonNullable<Spec['ulimits']>[number];
type Healthcheck = NonNullable<Spec['healthcheck']>;

/** Docker's Ulimit: hard defaults to soft, as Compose's single-value form does. */
function ulimitOf(u: Ulimit): { Name: string; Soft: number; Hard: number } {
  return { Name: u.name, Soft: u.soft, Hard: u.hard ?? u.soft };
}

/**
 * Terminal, stdin, init, sysctls, ulimits and /dev/shm. `init: false` is
 * sent (it turns off a daemon-wide `--init`); tty and stdinOpen false are
 * Docker's defaults and send nothing.
 */
export function processRuntimeOf(spec: Spec): { container: CreateOptions; host: HostConfig } {
  const container: CreateOptions = {
    ...(spec.tty ? { Tty: true } : {}),
    ...(spec.stdinOpen ? { OpenStdin: true } : {}),
  };
  const sysctls = spec.sysctls ?? {};
  const ulimits = nonEmpty(spec.ulimits);
  const host: HostConfig = {
    ...(spec.init !== undefined ? { Init: spec.init } : {}),
    ...(Object.keys(sysctls).length > 0 ? { Sysctls: { ...sysctls } } : {}),
    ...(ulimits ? { Ulimits: ulimits.map(ulimitOf) } : {}),
    ...(spec.resources?.shmSize !== undefined ? { ShmSize: parseByteQuantity(spec.resources.shmSize) } : {}),
  };
  return { container, host };
}

/** `name:ip` per host name, in the spec's order (Engine 20.10 splits at the first colon, so IPv6 works). */
export function extraHostsOf(spec: Spec): string[] {
  return (spec.hostAliases ?? []).flatMap((a) => a.hostnames.map((name) => `${name}:${a.ip}`));
}

/** `name:value`, or `name` alone, as resolv.conf's options line takes them. */
export function dnsOptionsOf(spec: Spec): string[] {
  return (spec.dnsConfig?.options ?? []).map((o) =>
    o.value !== undefined ? `${o.name}:${o.value}` : o.name,
  );
}

/** /etc/hosts and /etc/resolv.conf: ExtraHosts, Dns, DnsSearch, DnsOptions. */
export function resolverOptionsOf(spec: Spec): HostConfig {
  const extraHosts = extraHostsOf(spec);
  const dns = nonEmpty(spec.dnsConfig?.nameservers);
  const search = nonEmpty(spec.dnsConfig?.searches);
  const options = dnsOptionsOf(spec);
  return {
    ...(extraHosts.length > 0 ? { ExtraHosts: extraHosts } : {}),
    ...(dns ? { Dns: [...dns] } : {}),
    ...(search ? { DnsSearch: [...search] } : {}),
    ...(options.length > 0 ? { DnsOptions: options } : {}),
  };
}

/**
 * The healthcheck's Test: `NONE` turns the image's HEALTHCHECK off,
 * `CMD-SHELL` runs the string with the image's /bin/sh -c, `CMD` execs.
 */
export function healthTestOf(hc: Healthcheck): string[] {
  if (hc.disable) return ['NONE'];
  if (hc.shell !== undefined) return ['CMD-SHELL', hc.shell];
  return ['CMD', ...(hc.command ?? [])];
}

/**
 * The recreate groups of these fields, normalised (ulimits by name, hard
 * defaulting to soft, sizes in bytes). An unset field, an empty list or map and
 * tty/stdinOpen false add no group, so existing containers keep their hash.
 */
export function runtimeGroupsOf(spec: Spec): Record<string, unknown> {
  const ulimits = sortedBy((spec.ulimits ?? []).map(ulimitOf), (u) => u.Name);
  const options = dnsOptionsOf(spec);
  return {
    sysctls: nonEmptyMap(spec.sysctls),
    ulimits: nonEmpty(ulimits),
    shmSize: spec.resources?.shmSize !== undefined ? parseByteQuantity(spec.resources.shmSize) : undefined,
    init: spec.init,
    tty: trueOrUndefined(spec.tty),
    stdinOpen: trueOrUndefined(spec.stdinOpen),
    hostAliases: nonEmpty(extraHostsOf(spec)),
    dnsConfig: emptyToUndefined({
      nameservers: nonEmpty(spec.dnsConfig?.nameservers),
      searches: nonEmpty(spec.dnsConfig?.searches),
      options: nonEmpty(options),
    }),
  };
}
