import { describe, expect, it } from 'vitest';
import { classifyPushError, localDigestFor, readPushStream } from './push-client.js';

describe('readPushStream', () => {
  it('takes the digest the registry stored', () => {
    const text = [
      '{"status":"The push refers to repository [127.0.0.1:5000/team/app]"}',
      '{"status":"Pushed","progressDetail":{},"id":"5f70bf18a086"}',
      '{"status":"1: digest: sha256:aa size: 527"}',
      '{"progressDetail":{},"aux":{"Tag":"1","Digest":"sha256:aa","Size":527}}',
    ].join('\n');
    expect(readPushStream(text)).toEqual({ digest: 'sha256:aa' });
  });

  it('reports the first error', () => {
    const text = [
      '{"status":"The push refers to repository [127.0.0.1:5000/team/app]"}',
      '{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}',
    ].join('\n');
    expect(readPushStream(text)).toEqual({ error: 'unauthorized: authentication required' });
  });
});

describe('localDigestFor', () => {
  it('the digests of the destination repository only', () => {
    const repoDigests = ['127.0.0.1:5000/team/app@sha256:aa', 'other.example/app@sha256:bb'];
    expect(localDigestFor(repoDigests, '127.0.0.1:5000/team/app:1')).toEqual(['sha256:aa']);
    expect(localDigestFor(repoDigests, '127.0.0.1:5000/team/other:1')).toEqual([]);
  });
});

describe('classifyPushError', () => {
  it.each([
    ['unauthorized: authentication required', 'Unauthorized'],
    ['denied: requested access to the resource is denied', 'Unauthorized'],
    ['Get "https://reg.example/v2/": dial tcp: lookup reg.example: no such host', 'RegistryUnreachable'],
    // A registry's 404 on a push is not a missing image: the generic reason.
    ['name unknown: repository name not known to registry', 'PushFailed'],
    ['blob upload invalid', 'PushFailed'],
  ])('%s → %s', (message, reason) => {
    expect(classifyPushError(message)).toBe(reason);
  });
});
