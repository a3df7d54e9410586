// A Git server over smart HTTP for tests: Git's own `git http-backend`
// behind a small CGI bridge, listening where lab nodes reach the test process
// (the lab network's gateway), as a real Git host serves them.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'dockyard-test',
  GIT_AUTHOR_EMAIL: 'test@dockyard.invalid',
  GIT_COMMITTER_NAME: 'dockyard-test',
  GIT_COMMITTER_EMAIL: 'test@dockyard.invalid',
};

export interface GitServer {
  /** The clone URL of a repository, e.g. http://172.18.0.1:PORT/app.git. */
  url(repo: string): string;
  /** Commits `files` (path → content) onto `branch` of `repo` (created bare if new); returns the commit. */
  commit(repo: string, branch: string, files: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

/** Answers one request with `git http-backend` as a CGI program. */
function serveCgi(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://git');
  const backend = spawn('git', ['http-backend'], {
    env: {
      ...process.env,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
    },
  });
  req.pipe(backend.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    for (const line of head.subarray(0, end).toString().split('\r\n')) {
      const [name, ...rest] = line.split(':');
      const value = rest.join(':').trim();
      if (name?.toLowerCase() === 'status') res.statusCode = Number(value.split(' ')[0]);
      else if (name) res.setHeader(name, value);
    }
    res.write(head.subarray(end + 4));
  });
  backend.on('close', () => res.end());
  backend.on('error', () => {
    res.statusCode = 500;
    res.end();
  });
}

export async function startGitServer(opts: { host: string }): Promise<GitServer> {
  const root = await mkdtemp(join(tmpdir(), 'dockyard-git-'));
  const server = createServer((req, res) => serveCgi(root, req, res));
  await new Promise<void>((resolve) => server.listen(0, opts.host, resolve));
  const { port } = server.address() as AddressInfo;
  const git = (args: string[], cwd?: string) =>
    run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });
  return {
    url: (repo) => `http://${opts.host}:${port}/${repo}.git`,
    async commit(repo, branch, files) {
      const bare = join(root, `${repo}.git`);
      await git(['init', '--quiet', '--bare', '--initial-branch', branch, bare]).catch(() => undefined);
      const work = await mkdtemp(join(tmpdir(), 'dockyard-git-work-'));
      try {
        await git(['clone', '--quiet', bare, work]);
        await git(['checkout', '--quiet', '-B', branch], work);
        for (const [path, content] of Object.entries(files)) {
          await mkdir(dirname(join(work, path)), { recursive: true });
          await writeFile(join(work, path), content);
        }
        await git(['add', '--all'], work);
        await git(
          ['commit', '--quiet', '--allow-empty', '-m', `update ${Object.keys(files).join(' ')}`],
          work,
        );
        await git(['push', '--quiet', 'origin', branch], work);
        return (await git(['rev-parse', 'HEAD'], work)).stdout.trim();
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
    async stop() {
      // close() waits for every open connection to end, and a controller still
      // reading refs keeps one alive (HTTP keep-alive): end them.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await rm(root, { recursive: true, force: true });
    },
  };
}
