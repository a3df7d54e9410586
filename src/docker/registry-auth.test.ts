import { describe, expect, it } from 'vitest';
import {
  DOCKER_HUB_SERVER,
  DockerConfigError,
  findCredentials,
  parseDockerConfigJson,
  registryHostOf,
  registryHostOfKey,
  type ConfigEntry,
} from './registry-auth.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const SENTINEL = 'S3ntinel-p4ss';

describe('parseDockerConfigJson', () => {
  it('reads username and password', () => {
    const text = JSON.stringify({ auths: { 'reg:5000': { username: 'u', password: 'p' } } });
    expect(parseDockerConfigJson(text)).toEqual([
      { key: 'reg:5000', host: 'reg:5000', credentials: { username: 'u', password: 'p' } },
    ]);
  });

  it('reads the auth field (base64 of user:password; the password may hold colons)', () => {
    const text = JSON.stringify({ auths: { 'https://reg.example/v2/': { auth: b64('u:p:a:ss') } } });
    expect(parseDockerConfigJson(text)[0]).toMatchObject({
      host: 'reg.example',
      credentials: { username: 'u', password: 'p:a:ss' },
    });
  });

  it('the auth field wins over username/password, as in Docker', () => {
    const text = JSON.stringify({ auths: { r: { auth: b64('a:b'), username: 'x', password: 'y' } } });
    expect(parseDockerConfigJson(text)[0]?.credentials).toEqual({ username: 'a', password: 'b' });
  });

  it('skips entries without credentials and tolerates no auths', () => {
    expect(parseDockerConfigJson(JSON.stringify({ auths: { r: { identitytoken: 't' } } }))).toEqual([]);
    expect(parseDockerConfigJson('{}')).toEqual([]);
  });

  it.each([
    ['not JSON', `{"auths": {"r": {"password": "${SENTINEL}"`],
    ['not an object', '[1]'],
    ['auths not an object', '{"auths": "x"}'],
    ['auth without a colon', JSON.stringify({ auths: { r: { auth: b64(SENTINEL) } } })],
  ])('fails on %s without quoting the content', (_name, text) => {
    let err: unknown;
    try {
      parseDockerConfigJson(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DockerConfigError);
    expect((err as Error).message).not.toContain(SENTINEL);
    expect((err as Error).message).not.toContain('auths": {');
  });
});

describe('registry hosts', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['http://127.0.0.1:5000', '127.0.0.1:5000'],
    ['127.0.0.1:5000/v2/', '127.0.0.1:5000'],
    ['HTTPS://Reg.Example.com/', 'reg.example.com'],
  ])('config key %s → %s', (key, host) => {
    expect(registryHostOfKey(key)).toBe(host);
  });

  it.each([
    ['busybox', 'docker.io'],
    ['user/app:1', 'docker.io'],
    ['docker.io/user/app', 'docker.io'],
    ['127.0.0.1:5000/dockyard/busybox:1.36', '127.0.0.1:5000'],
    ['localhost/app', 'localhost'],
    ['ghcr.io/o/app', 'ghcr.io'],
  ])('image %s pulls from %s', (ref, host) => {
    expect(registryHostOf(ref)).toBe(host);
  });
});

describe('findCredentials (by registry host, the way Docker matches)', () => {
  const entry = (key: string, username: string): ConfigEntry => ({
    key,
    host: registryHostOfKey(key),
    credentials: { username, password: 'p' },
  });
  const configs = [
    { source: 'first', entries: [entry('127.0.0.1:5000', 'a'), entry('docker.io', 'hub-alias')] },
    {
      source: 'second',
      entries: [
        entry('127.0.0.1:5000', 'shadowed'),
        entry('reg.example', 'c'),
        entry(DOCKER_HUB_SERVER, 'hub'),
      ],
    },
  ];

  it.each([
    ['host:port, exact', '127.0.0.1:5000/x:1', 'first', 'a', '127.0.0.1:5000'],
    ['another port is another registry', '127.0.0.1:5001/x:1', undefined, undefined, undefined],
    [
      'the same host without the port is another registry',
      'reg.example:443/x',
      undefined,
      undefined,
      undefined,
    ],
    ['host without port', 'reg.example/team/x', 'second', 'c', 'reg.example'],
    ['no registry in the reference: Docker Hub', 'busybox', 'first', 'hub-alias', DOCKER_HUB_SERVER],
    ['index.docker.io is Docker Hub', 'index.docker.io/user/x', 'first', 'hub-alias', DOCKER_HUB_SERVER],
    ['nothing for the host', 'ghcr.io/o/x', undefined, undefined, undefined],
  ])('%s', (_name, ref, source, username, serveraddress) => {
    const found = findCredentials(configs, registryHostOf(ref));
    expect(found?.source).toBe(source);
    expect(found?.auth.username).toBe(username);
    expect(found?.auth.serveraddress).toBe(serveraddress);
  });

  it('within one config, Docker’s own key for a host wins over an alias', () => {
    const one = [{ source: 's', entries: [entry('docker.io', 'alias'), entry(DOCKER_HUB_SERVER, 'exact')] }];
    expect(findCredentials(one, 'docker.io')?.auth.username).toBe('exact');
  });
});
