#!/usr/bin/env node
// The `dockyard` executable. Everything happens in src/cli; the explicit exit
// ends the process even if a client library left a socket or timer behind.

import { runCli } from './cli/program.js';

process.exit(await runCli(process.argv));
