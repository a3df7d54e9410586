// `dockyard compose convert`: load the project as docker compose would (the
// WebAssembly loader, reading the local file system), convert it, print it.

import { convertProject } from '../compose/convert.js';
import { ComposeConversionError, formatFinding } from '../compose/findings.js';
import { ComposeLoadError, loadComposeProject } from '../compose/project-loader.js';
import { renderConversion } from '../compose/render.js';
import type { ComposeConvertOptions } from './compose-options.js';

export interface ConvertStreams {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Variables for interpolation: the process environment, as docker compose takes it. */
  environment: Record<string, string>;
}

export async function runComposeConvert(opts: ComposeConvertOptions, io: ConvertStreams): Promise<number> {
  try {
    const loaded = await loadComposeProject({
      // The CLI reads the user's own files wherever they are, as docker compose does.
      hostDir: '/',
      guestDir: '/',
      workingDir: opts.projectDirectory,
      configFiles: opts.files,
      envFiles: opts.envFiles,
      profiles: opts.profiles,
      environment: io.environment,
      // Unset: Compose's rule (the name: key, else the project folder's name, normalised).
      projectName: opts.projectName ?? '',
    });
    const conversion = convertProject(loaded, {
      namespace: opts.namespace,
      placement: opts.placement,
      projectDir: opts.projectDirectory,
      allowUnsupported: opts.allowUnsupported,
    });
    for (const warning of conversion.warnings) io.stderr(`warning: ${formatFinding(warning)}\n`);
    io.stdout(
      renderConversion(conversion, [
        `Converted by dockyard compose convert from project ${loaded.project.name}.`,
      ]),
    );
    return 0;
  } catch (err) {
    if (err instanceof ComposeLoadError || err instanceof ComposeConversionError) {
      io.stderr(`dockyard compose convert: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
