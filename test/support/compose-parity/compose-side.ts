// The reference side: the real `docker compose` (v5.6.0, built from its Go
// module) against lab node A's daemon. compose runs on this machine and talks
// to the node over TCP, as it would to a remote engine; the project folder is
// copied into the node at the same absolute path first, so file sources that
// compose bind-mounts (file configs and secrets) exist where the daemon looks,
// as on a machine where compose and the engine share a disk.

import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import type Dockerode from 'dockerode';
import { composeCommand } from '../../../src/localenv/compose-cli.js';
import type { PreparedProject } from './corpus.js';

export interface ComposeTarget {
  /** The docker-compose binary (ensureComposeCli). */
  binary: string;
  /** The node's daemon, `tcp://127.0.0.1:PORT`. */
  dockerHost: string;
  /** The host daemon's handle on the node's own container (to copy the folder in). */
  nodeContainer: Dockerode.Container;
}

/** How long compose waits for the project to be running and healthy. */
const WAIT_TIMEOUT_S = 120;

async function runCompose(target: ComposeTarget, p: PreparedProject, args: string[]): Promise<string> {
  const cmd = composeCommand({
    binary: target.binary,
    dockerHost: target.dockerHost,
    projectName: p.entry.dir,
    projectDir: p.hostDir,
    files: (p.entry.files ?? []).map((f) => `${p.hostDir}/${f}`),
    args: [...(p.entry.profiles ?? []).flatMap((profile) => ['--profile', profile]), ...args],
    env: p.entry.env ?? {},
  });
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, cwd: cmd.cwd, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else
        reject(
          new Error(`docker compose ${args.join(' ')} for ${p.entry.dir} exited ${code}:\n${output.trim()}`),
        );
    });
  });
}

/** Copies the project folder into the node at its absolute path on this machine. */
async function copyProjectIntoNode(target: ComposeTarget, hostDir: string): Promise<void> {
  const tar = spawn('tar', ['-C', '/', '-c', relative('/', hostDir)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve, reject) =>
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar ${hostDir}: ${stderr}`)))),
  );
  await target.nodeContainer.putArchive(tar.stdout, { path: '/' });
  await exited;
}

export async function composeUp(target: ComposeTarget, p: PreparedProject): Promise<void> {
  await copyProjectIntoNode(target, p.hostDir);
  await runCompose(target, p, ['up', '-d', '--wait', '--wait-timeout', String(WAIT_TIMEOUT_S)]);
}

/** `down -v -t 1`: containers, networks and the project's volumes go. */
export async function composeDown(target: ComposeTarget, p: PreparedProject): Promise<void> {
  await runCompose(target, p, ['down', '-v', '-t', '1', '--remove-orphans']);
}
