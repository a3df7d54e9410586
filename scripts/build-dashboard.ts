// `npm run build`'s second step: the dashboard's browser bundle in dist/dashboard-web.
import { ensureDashboardBundle } from '../src/localenv/dashboard-bundle.js';

const { dir, bytes } = await ensureDashboardBundle({ force: true });
console.log(`dashboard bundle: ${dir} (${(bytes / 1024).toFixed(1)} KiB)`);
