// Builds UI extension entries with HubSpot's own upload-time build, `remoteBuild` from
// @hubspot/ui-extensions-dev-server (vite, minified IIFE, HubSpot's code-blocking and manifest
// plugins), as HubSpot's build service calls it: root = the component's folder, its entry point,
// an output folder. Run as a child process (the package is ESM-only):
//   node tests/support/remoteBuild.mjs <result.json> '[{"root": "...", "entryPoint": "...", "outputDir": "..."}]'
// Writes {builds: [{entryPoint, outputDir, ms}], messages: [{level, text}]} to result.json: what the
// build (HubSpot's plugins log through console) said, so a test can hold its warnings to none.
import { writeFileSync } from 'node:fs';
import { remoteBuild } from '@hubspot/ui-extensions-dev-server/build';

const [resultFile, jobsJson] = process.argv.slice(2);
const jobs = JSON.parse(jobsJson);
const messages = [];
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  console[level] = (...args) => messages.push({ level, text: args.map(String).join(' ') });
}
const builds = [];
try {
  for (const job of jobs) {
    const started = Date.now();
    // logLevel 'error': vite's own notices (rollup's remarks on dependencies' comments) stay out;
    // HubSpot's plugins log through console, captured above.
    await remoteBuild({ root: job.root, entryPoint: job.entryPoint, outputDir: job.outputDir, logLevel: 'error' });
    builds.push({ ...job, ms: Date.now() - started });
  }
  writeFileSync(resultFile, JSON.stringify({ ok: true, builds, messages }));
} catch (error) {
  writeFileSync(resultFile, JSON.stringify({ ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error), builds, messages }));
}
