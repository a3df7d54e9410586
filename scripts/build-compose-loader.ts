// `npm run build:compose-loader`: builds the Compose loader (compose-go for
// WebAssembly, tools/compose-loader) into wasm/compose-loader.wasm, where
// `dockyard compose convert` and the DockerComposeStack controller load it.
// Needs Go once; cached by source hash (src/localenv/compose-loader.ts).
import { ensureComposeLoader } from '../src/localenv/compose-loader.js';

console.log(await ensureComposeLoader((m) => console.log(`[compose-loader] ${m}`)));
