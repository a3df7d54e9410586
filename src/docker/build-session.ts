// A BuildKit session: the channel over which the daemon's builder asks the
// client for what only the client holds. `POST /session` upgrades the
// connection to HTTP/2 with the client as the gRPC *server*; the build
// request then names the session, and BuildKit calls back for secrets
// (`RUN --mount=type=secret`), registry credentials (base images) and a
// health check. dockerode's own session (lib/session.js) serves only the
// credentials of one registry, so Dockyard opens its own on the same
// grpc-js connection injector: secrets by id, credentials by registry host,
// and health. The messages are three tiny protobuf types, declared here
// rather than loaded from .proto files at run time.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type Dockerode from 'dockerode';

// The descriptor in protobufjs' JSON form (a map field carries keyType, which its typings leave out).
const descriptor = {
  nested: {
    secrets: {
      nested: {
        GetSecretRequest: {
          fields: {
            ID: { type: 'string', id: 1 },
            annotations: { keyType: 'string', type: 'string', id: 2 },
          },
        },
        GetSecretResponse: { fields: { data: { type: 'bytes', id: 1 } } },
      },
    },
    auth: {
      nested: {
        CredentialsRequest: { fields: { Host: { type: 'string', id: 1 } } },
        CredentialsResponse: {
          fields: { Username: { type: 'string', id: 1 }, Secret: { type: 'string', id: 2 } },
        },
      },
    },
    health: {
      nested: {
        HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
        HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
      },
    },
  },
};
const root = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);

type Message = Record<string, unknown>;

/** A unary method over protobufjs types, as grpc-js wants it. */
function unary(path: string, request: string, response: string): grpc.MethodDefinition<Message, Message> {
  const req = root.lookupType(request);
  const res = root.lookupType(response);
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(req.encode(req.fromObject(m)).finish()),
    requestDeserialize: (b) => req.toObject(req.decode(b), { defaults: true }),
    responseSerialize: (m) => Buffer.from(res.encode(res.fromObject(m)).finish()),
    responseDeserialize: (b) => res.toObject(res.decode(b), { defaults: true }),
  };
}

const METHODS = {
  getSecret: unary(
    '/moby.buildkit.secrets.v1.Secrets/GetSecret',
    'secrets.GetSecretRequest',
    'secrets.GetSecretResponse',
  ),
  credentials: unary(
    '/moby.filesync.v1.Auth/Credentials',
    'auth.CredentialsRequest',
    'auth.CredentialsResponse',
  ),
  healthCheck: unary(
    '/grpc.health.v1.Health/Check',
    'health.HealthCheckRequest',
    'health.HealthCheckResponse',
  ),
};

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface SessionOptions {
  /** Secret bytes by id, as `RUN --mount=type=secret,id=…` names them. */
  secrets: ReadonlyMap<string, Buffer>;
  /** Credentials by registry host (docker.io as `registry-1.docker.io` too); anonymous elsewhere. */
  credentials: ReadonlyMap<string, RegistryCredentials>;
}

export interface BuildSession {
  id: string;
  close(): void;
}

type Unary = grpc.handleUnaryCall<Message, Message>;

function serve(server: grpc.Server, opts: SessionOptions): void {
  const getSecret: Unary = ({ request }, done) => {
    const data = opts.secrets.get(String(request.ID));
    if (data) done(null, { data });
    else done({ code: grpc.status.NOT_FOUND, details: `secret ${String(request.ID)} not found` });
  };
  const credentials: Unary = ({ request }, done) => {
    const found = opts.credentials.get(String(request.Host));
    done(null, found ? { Username: found.username, Secret: found.password } : {});
  };
  const healthCheck: Unary = (_call, done) => done(null, { status: SERVING });
  server.addService({ GetSecret: METHODS.getSecret }, { GetSecret: getSecret });
  server.addService({ Credentials: METHODS.credentials }, { Credentials: credentials });
  server.addService({ Check: METHODS.healthCheck }, { Check: healthCheck });
}

/**
 * Opens a session on the daemon and serves it until `close()`. The methods
 * are announced in X-Docker-Expose-Session-Grpc-Method headers: BuildKit
 * asks a session only for what it says it supports.
 */
export async function openBuildSession(api: Dockerode, opts: SessionOptions): Promise<BuildSession> {
  const id = randomUUID();
  const socket = await new Promise<Socket>((resolve, reject) => {
    api.modem.dial(
      {
        method: 'POST',
        path: '/session',
        hijack: true,
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'dockyard',
          'X-Docker-Expose-Session-Sharedkey': id,
          'X-Docker-Expose-Session-Grpc-Method': Object.values(METHODS).map((m) => m.path),
        },
        statusCodes: { 101: true, 200: true, 500: 'server error' },
      },
      (err: unknown, stream: unknown) => (err ? reject(err as Error) : resolve(stream as Socket)),
    );
  });
  const server = new grpc.Server();
  serve(server, opts);
  server.createConnectionInjector(grpc.ServerCredentials.createInsecure()).injectConnection(socket);
  return {
    id,
    close: () => {
      server.forceShutdown();
      socket.destroy();
    },
  };
}
