import { fileURLToPath } from 'node:url';

/**
 * Where the Compose loader (compose-go built for WebAssembly, tools/compose-loader)
 * sits: wasm/ at the package root, a sibling of src/ and dist/, so this one
 * path works under tsx, from the compiled dist/ and in the controller image.
 * `npm run build:compose-loader` puts it there (it needs Go once).
 */
export const COMPOSE_LOADER_WASM = fileURLToPath(new URL('../../wasm/compose-loader.wasm', import.meta.url));
