import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { LogTail, redact } from './build-client.js';
import { BuildTrace } from './build-trace.js';

// BuildKit's full StatusResponse schema, as dockerode ships it: an encoder independent of the decoder's subset.
const dockerodeDir = dirname(createRequire(import.meta.url).resolve('dockerode/package.json'));
const StatusResponse = protobuf
  .loadSync(join(dockerodeDir, 'lib/proto/buildkit_status.proto'))
  .lookupType('moby.buildkit.v1.StatusResponse');

const trace = (status: Record<string, unknown>) =>
  JSON.stringify({
    id: 'moby.buildkit.trace',
    aux: Buffer.from(StatusResponse.encode(StatusResponse.fromObject(status)).finish()).toString('base64'),
  });
const started = { seconds: 1, nanos: 0 };

describe('BuildTrace', () => {
  it('names each step once, passes process output on as text, and reports a step’s error once', () => {
    const t = new BuildTrace();
    const run = { digest: 'sha256:a', name: '[2/2] RUN echo hi', started };
    expect(t.line(trace({ vertexes: [run] })).text).toBe('[2/2] RUN echo hi\n');
    expect(
      t.line(trace({ vertexes: [run], logs: [{ vertex: 'sha256:a', msg: Buffer.from('hi\n') }] })).text,
    ).toBe('hi\n');
    const cached = { digest: 'sha256:b', name: '[1/2] FROM bb:1', cached: true };
    expect(t.line(trace({ vertexes: [cached] })).text).toBe('CACHED [1/2] FROM bb:1\n');
    const failing = t.line(trace({ vertexes: [{ ...run, error: 'exit code: 3' }] }));
    expect(failing).toEqual({ text: 'ERROR: exit code: 3\n', error: 'exit code: 3' });
    // The stream's closing error repeats the step's: reported, not shown twice.
    expect(
      t.line(JSON.stringify({ errorDetail: { message: 'exit code: 3' }, error: 'exit code: 3' })),
    ).toEqual({
      text: '',
      error: 'exit code: 3',
    });
  });

  it('takes the image ID, plain stream lines and warnings', () => {
    const t = new BuildTrace();
    expect(t.line(JSON.stringify({ id: 'moby.image.id', aux: { ID: 'sha256:f00' } }))).toEqual({
      text: '',
      imageId: 'sha256:f00',
    });
    expect(t.line(JSON.stringify({ stream: 'Successfully tagged app:1\n' })).text).toBe(
      'Successfully tagged app:1\n',
    );
    expect(t.line(trace({ warnings: [{ vertex: 'x', short: Buffer.from('legacy syntax') }] })).text).toBe(
      'WARNING: legacy syntax\n',
    );
    expect(t.line('not json').text).toBe('not json\n');
  });
});

describe('redaction', () => {
  it('replaces every occurrence, a longer value before one it contains', () => {
    expect(redact('token=abc-secret, again abc-secret; part abc', ['abc', 'abc-secret'])).toBe(
      'token=***, again ***; part ***',
    );
    expect(redact('nothing to hide', ['', 'x1'])).toBe('nothing to hide');
  });

  it('keeps the end of the output, redacted before it is cut', () => {
    const tail = new LogTail(20, ['s3cr3t']);
    for (let i = 0; i < 50; i++) tail.add(`line ${i}\n`);
    tail.add('value s3cr3t\n');
    const text = tail.read();
    expect(text.length).toBeLessThanOrEqual(20);
    expect(text.endsWith('value ***\n')).toBe(true);
    expect(text).not.toContain('s3cr3t');
  });
});
