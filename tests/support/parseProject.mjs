// Parses the HubSpot project with HubSpot's own offline parser and prints the intermediate
// representation as JSON. Run as a child process: the parser is ESM-only.
import { translate } from '@hubspot/project-parsing-lib/translate';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const project = JSON.parse(readFileSync(join(root, 'hsproject.json'), 'utf8'));
try {
  const result = await translate({
    projectSourceDir: join(root, project.srcDir),
    platformVersion: project.platformVersion,
  }, { skipValidation: true }); // schema validation needs a HubSpot account and the network
  process.stdout.write(JSON.stringify({ ok: true, result }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error), details: error }));
}
