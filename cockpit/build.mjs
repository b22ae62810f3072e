// Builds the Cockpit package into dist/cockpit/virt-seclabel/ (not committed): manifest.json and
// index.html as they are, and one bundled script and stylesheet (React and PatternFly from
// node_modules; cockpit.js is the running Cockpit's ../base1/cockpit.js, never bundled).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../dist/cockpit/virt-seclabel');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src/index.tsx')],
  outfile: join(out, 'index.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  // PatternFly's fonts and images travel inside the stylesheet: the package stays a handful of files.
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl', '.jpg': 'dataurl' },
  logLevel: 'warning',
});
for (const f of ['manifest.json', 'index.html']) copyFileSync(join(here, f), join(out, f));
console.log(`cockpit package built in ${out}`);
