// Builds the Cockpit package into dist/cockpit/virt-seclabel/ (not committed): manifest.json and
// index.html as they are, and one bundled script and stylesheet (React and PatternFly from
// node_modules; cockpit.js is the running Cockpit's ../base1/cockpit.js, never bundled).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../dist/cockpit/virt-seclabel');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src/index.tsx')],
  outfile: join(out, 'index.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  // The licences go into the packages' copyright files (from bundled-packages.json below), not next to the page.
  legalComments: 'none',
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  // PatternFly's fonts and images travel inside the stylesheet: the package stays a handful of files.
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl', '.jpg': 'dataurl' },
  logLevel: 'warning',
});
for (const f of ['manifest.json', 'index.html']) copyFileSync(join(here, f), join(out, f));
// The npm packages inside the page's bundle, with their licences, for the .deb's copyright and the RPM.
const bundled = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m || bundled.has(m[1])) continue;
  const dep = JSON.parse(readFileSync(join(here, '../node_modules', m[1], 'package.json'), 'utf8'));
  bundled.set(m[1], { name: m[1], version: dep.version, license: dep.license });
}
writeFileSync(join(out, '../bundled-packages.json'), JSON.stringify([...bundled.values()].sort((a, b) => a.name.localeCompare(b.name)), null, 2) + '\n');
console.log(`cockpit package built in ${out}`);
