import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mappedServiceKeys, SERVICE_KEYS } from './keys.js';

// The service key table is the allow-list every Compose key goes through;
// docs/compose.md must say what happens to each key in it.

describe('service keys', () => {
  const doc = readFileSync(new URL('../../../docs/compose.md', import.meta.url), 'utf8');

  it.each([...SERVICE_KEYS.keys()])('docs/compose.md says what becomes of %s', (key) => {
    // `key`, `key.sub…` or `key: value` in a table row.
    expect(doc).toMatch(new RegExp(`\`${key}[\`.:]`));
  });

  it('maps the keys a Compose service is mostly made of', () => {
    expect(mappedServiceKeys()).toEqual(
      expect.arrayContaining([
        'image',
        'command',
        'environment',
        'ports',
        'volumes',
        'networks',
        'depends_on',
        'healthcheck',
        'configs',
        'secrets',
      ]),
    );
  });
});
