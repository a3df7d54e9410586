// @kubernetes/client-node 2.0 builds a new undici Agent for every API request
// (applySecurityAuthentication → createDispatcher), so every request opens a
// new TCP connection with a full TLS handshake and a new SecureContext
// (parsing the CA, certificate and key again). Under load that was the
// controller's biggest CPU cost of its own making, and the short-lived
// agents and sockets inflated its memory (kubernetes-client/javascript#2893
// fixed the same for Watch, not for API clients). Here one Agent is reused as
// long as the TLS inputs stay the same, so requests share keep-alive
// connections the way client-go's transport does.

import { createHash } from 'node:crypto';
import { bufferFromFileOrString, type KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * What decides the TLS connection: server, proxy, verification settings and
 * the CA, client certificate and key (read again each time, as client-node
 * does, so a rotated file gets a new connection). Undefined for exec
 * plugins, which may return a client certificate per request: those keep
 * client-node's per-request behaviour. Auth providers (the in-cluster token
 * file, OIDC) only set headers, which client-node still sets per request.
 */
export function tlsIdentity(kc: KubeConfig): string | undefined {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || user?.exec) return undefined;
  const hash = createHash('sha256');
  const parts: Array<string | Buffer | null | undefined> = [
    cluster.server,
    cluster.proxyUrl,
    String(cluster.skipTLSVerify ?? ''),
    cluster.tlsServerName,
    bufferFromFileOrString(cluster.caFile, cluster.caData),
    bufferFromFileOrString(user?.certFile, user?.certData),
    bufferFromFileOrString(user?.keyFile, user?.keyData),
  ];
  for (const part of parts) {
    hash.update(part ?? '');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * Makes every API client made from `kc` share one connection pool per TLS
 * identity. Headers (bearer tokens read from a rotating file) are still set
 * per request by client-node; only the dispatcher is swapped.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const apply = kc.applySecurityAuthentication.bind(kc);
  let current: { identity: string; dispatcher: Dispatcher } | undefined;
  kc.applySecurityAuthentication = async (context: RequestContext) => {
    await apply(context);
    const fresh = context.getDispatcher();
    const identity = fresh ? tlsIdentity(kc) : undefined;
    if (!fresh || identity === undefined) return;
    if (current?.identity !== identity) {
      // Requests in flight on the old pool finish; it then closes its sockets.
      void current?.dispatcher.close().catch(() => {});
      current = { identity, dispatcher: fresh };
      return;
    }
    // The fresh Agent never connected: dropping it costs nothing.
    context.setDispatcher(current.dispatcher);
  };
  return kc;
}
