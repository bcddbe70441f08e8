// Jest transform for TypeScript/TSX (and the ESM-only @hubspot/ui-extensions
// packages) built on esbuild. esbuild is used because every platform binary it
// needs is on the npm registry this project installs from; @swc/core's are not,
// which made `npm ci` reject the lockfile. Type checking is `tsc --noEmit`'s job.
const { transformSync } = require('esbuild');
const { createHash } = require('node:crypto');
const { version } = require('esbuild/package.json');

function loaderFor(filename) {
  if (filename.endsWith('.tsx')) return 'tsx';
  if (filename.endsWith('.ts') || filename.endsWith('.mts') || filename.endsWith('.cts')) return 'ts';
  if (filename.endsWith('.jsx')) return 'jsx';
  return 'js';
}

module.exports = {
  process(source, filename) {
    const result = transformSync(source, {
      loader: loaderFor(filename),
      format: 'cjs',
      target: 'node20',
      jsx: 'automatic',
      sourcemap: 'inline',
      sourcefile: filename,
    });
    return { code: result.code };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(version).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
