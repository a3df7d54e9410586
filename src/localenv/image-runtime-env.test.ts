import { describe, expect, it } from 'vitest';
import { imageRuntimeEnv } from './image-runtime-env.js';

describe('imageRuntimeEnv', () => {
  it('reads the runtime memory settings from the real Dockerfile', () => {
    expect(imageRuntimeEnv()).toEqual(['MALLOC_ARENA_MAX=2', 'NODE_OPTIONS=--max-semi-space-size=2']);
  });

  it('follows line continuations and ignores other ENV names', () => {
    const text = 'FROM x\nENV npm_config_audit=false \\\n    MALLOC_ARENA_MAX=4\nENV NODE_ENV=production\n';
    expect(imageRuntimeEnv(text)).toEqual(['MALLOC_ARENA_MAX=4']);
  });
});
