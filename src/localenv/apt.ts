import { run } from './exec.js';

let updated = false;

/**
 * Installs Debian packages that are not installed yet. The environment is set
 * up by the project's own scripts on a fresh machine (we run as root there);
 * packages already present cost one dpkg query.
 */
export async function ensureDebianPackages(
  packages: string[],
  log: (msg: string) => void = () => {},
): Promise<void> {
  const missing: string[] = [];
  for (const pkg of packages) {
    try {
      const { stdout } = await run('dpkg-query', ['-W', '-f=${Status}', pkg]);
      if (!stdout.includes('install ok installed')) missing.push(pkg);
    } catch {
      missing.push(pkg);
    }
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing Debian packages (${missing.join(', ')}); install them as root: apt-get install -y ${missing.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!updated) {
    await run('apt-get', ['update'], { env });
    updated = true;
  }
  await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
}
