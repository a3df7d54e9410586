import { describe, expect, it } from 'vitest';
import { localDigestFor, readPushStream } from './push-client.js';

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
