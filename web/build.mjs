// Builds the browser module (web/index.ts -> dist/web/nas.js), the example page (web/example -> dist/web/example),
// the script of `nas report`'s page (web/report -> dist/web/report.js, Observable Plot bundled in) and the latency page of the browser runner (latency/page -> dist/web/latency) with esbuild. @tensorflow/tfjs stays an import for the page to resolve, so our layers register with the page's
// tfjs; common/lazyPackage.ts, through which data/image.ts loads sharp to decode files in Node, becomes a stub whose
// packages throw: pages decode with a canvas. Run by `npm run build:web` after `tsc -p web/tsconfig.json` has type-checked the sources.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

/** @type {import('esbuild').Plugin} */
const noNodePackages = {
  name: 'no-node-packages',
  setup(b) {
    b.onResolve({ filter: /\/common\/lazyPackage\.js$/ }, () => ({ path: 'lazyPackage', namespace: 'no-node-packages' }));
    b.onLoad({ filter: /.*/, namespace: 'no-node-packages' }, () => ({
      contents:
        'export function lazyPackage(name) { return () => { throw new Error(name + " is not available in a browser: decode images with a canvas"); }; }',
      loader: 'js',
    }));
  },
};

/** The example imports the module's source for its types; in the build it imports the bundle beside it. */
const exampleUsesBundle = {
  name: 'example-uses-bundle',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: '../nas.js', external: true }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['@tensorflow/tfjs'],
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: [join(root, 'web', 'index.ts')], outfile: join(out, 'nas.js'), plugins: [noNodePackages] });
await build({
  ...common,
  entryPoints: [join(root, 'web', 'example', 'app.ts')],
  outfile: join(out, 'example', 'app.js'),
  plugins: [exampleUsesBundle],
});
// The latency page is served alone by the browser runner, so tfjs and its wasm backend are bundled into it.
await build({
  ...common,
  external: [],
  entryPoints: [join(root, 'latency', 'page', 'main.ts')],
  outfile: join(out, 'latency', 'page.js'),
  plugins: [noNodePackages],
});
// The report's script is inlined into a page opened from disk: one classic script (no module loading from file://),
// every dependency bundled, minified to keep each report small.
await build({
  ...common,
  external: [],
  format: 'iife',
  minify: true,
  sourcemap: false,
  entryPoints: [join(root, 'web', 'report', 'main.ts')],
  outfile: join(out, 'report.js'),
});
await mkdir(join(out, 'example'), { recursive: true });
await copyFile(join(root, 'web', 'example', 'index.html'), join(out, 'example', 'index.html'));
