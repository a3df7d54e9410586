import { attach, containerOr404, detach } from './containers.js';
import type { Handler } from './context.js';
import { EngineError, conflict, labelsMatch, notFound, parseFilters, readJson } from './http.js';
import type { HollowNetwork, HostState } from './state.js';

function networkOr404(state: HostState, ref: string): HollowNetwork {
  const n = state.findNetwork(ref);
  if (!n) throw notFound(`network ${ref} not found`);
  return n;
}

/** Running containers' endpoints, as GET /networks/{id} lists them. */
function endpointsOf(state: HostState, n: HollowNetwork): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of state.containers.values()) {
    const ep = c.networks.get(n.name);
    if (!ep || ep.networkId !== n.id || c.state.status !== 'running') continue;
    out[c.id] = {
      Name: c.name,
      EndpointID: ep.endpointId,
      MacAddress: ep.mac,
      IPv4Address: ep.ip ? `${ep.ip}/${n.subnet.split('/')[1] ?? '16'}` : '',
      IPv6Address: '',
    };
  }
  return out;
}

/** One network as list and inspect answer it; the list leaves Containers empty, as 20.10 does. */
function networkJson(state: HostState, n: HollowNetwork, withContainers: boolean): Record<string, unknown> {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: n.scope,
    Driver: n.driver,
    EnableIPv6: n.enableIPv6,
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [],
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: withContainers ? endpointsOf(state, n) : {},
    Options: n.options,
    Labels: n.labels,
  };
}

export const listNetworks: Handler = ({ state, query }) => {
  const f = parseFilters(query);
  const any = (key: string, test: (v: string) => boolean) => !f.get(key) || (f.get(key) ?? []).some(test);
  const list = [...state.networks.values()].filter(
    (n) =>
      labelsMatch(n.labels, f.get('label')) &&
      // The name filter matches substrings; callers that need an exact name check it.
      any('name', (v) => n.name.includes(v)) &&
      any('id', (v) => n.id.startsWith(v)) &&
      any('driver', (v) => v === n.driver) &&
      any('type', (v) => (v === 'builtin') === n.builtin),
  );
  return { status: 200, json: list.map((n) => networkJson(state, n, false)) };
};

export const inspectNetwork: Handler = ({ state, params }) => ({
  status: 200,
  json: networkJson(state, networkOr404(state, params[0] as string), true),
});

/**
 * Engine 20.10 refuses a taken name only when CheckDuplicate is set, and even
 * then concurrent creates can both pass: the hollow host checks synchronously,
 * so it never makes duplicates with CheckDuplicate, and always makes them without.
 */
export const createNetwork: Handler = async ({ state, req }) => {
  const body = await readJson(req);
  const name = String(body.Name ?? '');
  if (body.CheckDuplicate === true && [...state.networks.values()].some((n) => n.name === name))
    throw conflict(`network with name ${name} already exists`);
  const ipam = (body.IPAM as { Config?: Array<{ Subnet?: string; Gateway?: string }> } | undefined)
    ?.Config?.[0];
  const driver = (body.Driver as string) || 'bridge';
  const subnet = ipam?.Subnet ?? state.nextSubnet();
  const n = state.addNetwork({
    name,
    driver,
    subnet,
    ...(ipam?.Gateway ? { gateway: ipam.Gateway } : {}),
    internal: body.Internal === true,
    attachable: body.Attachable === true,
    enableIPv6: body.EnableIPv6 === true,
    labels: (body.Labels as Record<string, string>) ?? {},
    options: (body.Options as Record<string, string>) ?? {},
  });
  state.events.emit('network', 'create', n.id, { name: n.name, type: n.driver });
  return { status: 201, json: { Id: n.id, Warning: '' } };
};

export const removeNetwork: Handler = ({ state, params }) => {
  const n = networkOr404(state, params[0] as string);
  if (n.builtin) throw new EngineError(403, `${n.name} is a pre-defined network and cannot be removed`);
  if (Object.keys(endpointsOf(state, n)).length > 0)
    throw new EngineError(
      403,
      `error while removing network: network ${n.name} id ${n.id} has active endpoints`,
    );
  state.networks.delete(n.id);
  state.events.emit('network', 'destroy', n.id, { name: n.name, type: n.driver });
  return { status: 204 };
};

export const connect: Handler = async (ctx) => {
  const { state, params, req } = ctx;
  const n = networkOr404(state, params[0] as string);
  const body = await readJson(req);
  const c = containerOr404(state, String(body.Container ?? ''));
  if (c.networks.has(n.name))
    throw new EngineError(403, `endpoint with name ${c.name} already exists in network ${n.name}`);
  attach(ctx, c, n.id, (body.EndpointConfig as Record<string, unknown>) ?? {});
  return { status: 200, text: '' };
};

/**
 * A disconnect of a running container that is not attached still emits the
 * `network disconnect` event before it fails with a 500: seen on Engine
 * 20.10, kept so event counts match.
 */
export const disconnect: Handler = async (ctx) => {
  const { state, params, req } = ctx;
  const n = networkOr404(state, params[0] as string);
  const body = await readJson(req);
  const c = containerOr404(state, String(body.Container ?? ''));
  if (!detach(ctx, c, n.name)) {
    if (c.state.status === 'running')
      state.events.emit('network', 'disconnect', n.id, { container: c.id, name: n.name, type: n.driver });
    throw new EngineError(500, `container ${c.id} is not connected to network ${n.name}`);
  }
  return { status: 200, text: '' };
};
