// Runs the client's unit tests under Node's own test runner: a readable report on stdout and a JUnit XML report at
// the path given (its folder is created first, since a fresh checkout has no target/). Exits with the runner's code;
// a failed test that leaves a session's timers running ends the run instead of holding it open.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const [junitReport, ...testPaths] = process.argv.slice(2);
if (!junitReport || testPaths.length === 0) {
  console.error('usage: node run-tests.mjs <junit report> <test path>...');
  process.exit(2);
}
mkdirSync(dirname(junitReport), { recursive: true });
const run = spawnSync(process.execPath, ['--test', '--test-force-exit',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=junit', `--test-reporter-destination=${junitReport}`,
  ...testPaths], { stdio: 'inherit' });
process.exit(run.status ?? 1);
