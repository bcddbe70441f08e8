import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keepRunningHelp } from './demo/keepRunning';
import { runDemo } from './demo/story';

/**
 * `npm run demo [-- --keep]`: starts the local HubSpot simulator and the service (SQLite in a temp
 * file), plays the Dealgate story and checks every step. Exit codes: 0 every step behaved as told,
 * 1 a step did not (the last line names it), 2 the demo could not run (bad arguments, startup).
 * With --keep, both stay up after the story until Ctrl-C.
 */
const USAGE = 'usage: npm run demo [-- --keep]\n  --keep  leave the simulator and the service running after the story (Ctrl-C stops them)\n';

async function main(): Promise<number> {
  let keep: boolean;
  try {
    const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    keep = values.keep;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }

  const run = await runDemo();
  const exitCode = run.ok ? 0 : 1;
  const { stack } = run.world;
  if (keep) {
    // From here on the service runs on real time, so requests are signed with the caller's clock.
    run.world.clock.catchUp();
    process.stdout.write(await keepRunningHelp(run.world));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stdout.write('\nStopping...\n');
  }
  await run.world.stop();
  const gone = !existsSync(stack.databasePath);
  process.stdout.write(`Stopped the service and the simulator; ${gone ? 'deleted' : 'could NOT delete'} the temp database ${stack.databasePath}.\n`);
  return gone ? exitCode : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`The demo could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
