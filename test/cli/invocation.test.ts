// The command a "resume with" line prints is the one the user ran: npx, node or the bin.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandLine, shellQuote } from '../../src/cli/invocation.js';
import { resumeCommand } from '../../src/cli/interrupt.js';

const ARGS = ['train', '--method', 'ae', '--dataset', 'synth-brain'];
const node = (script: string, env: NodeJS.ProcessEnv = {}, execArgv: string[] = []) => ({ argv: ['/usr/bin/node', script, ...ARGS], env, cwd: '/home/u/proj', execArgv });

test('npx medianomaly …: printed with npx (a bare medianomaly is not on the PATH)', () => {
  const env = { npm_command: 'exec', npm_lifecycle_event: 'npx', npm_lifecycle_script: 'medianomaly train --method ae', PATH: '/usr/bin' };
  const ctx = node('/home/u/proj/node_modules/.bin/medianomaly', env);
  assert.is(commandLine(ctx, ARGS), 'npx medianomaly train --method ae --dataset synth-brain');
  // What npm 11's npx really sets (seen with a stand-in package): the command alone, quoted.
  const npx11 = { npm_command: 'exec', npm_lifecycle_event: 'npx', npm_lifecycle_script: "'medianomaly'", PATH: '/usr/bin' };
  assert.is(commandLine(node('/root/.npm/_npx/c02464c28e7822af/node_modules/.bin/medianomaly', npx11), ARGS), 'npx medianomaly train --method ae --dataset synth-brain');
  const pinned = { ...env, npm_lifecycle_script: 'medianomaly@0.1.0 train' };
  assert.match(commandLine(node('/tmp/npx/medianomaly', pinned), ARGS), /^npx medianomaly@0\.1\.0 train /);
});

test('node bin/medianomaly.js …: printed with node and the script relative to the folder it ran in', () => {
  assert.is(commandLine(node('/home/u/proj/bin/medianomaly.js'), ARGS), 'node bin/medianomaly.js train --method ae --dataset synth-brain');
  assert.is(commandLine(node('/opt/m/bin/medianomaly.js', {}, ['--max-old-space-size=8000']), ['x']), 'node --max-old-space-size=8000 /opt/m/bin/medianomaly.js x');
  // Variables inherited from an unrelated npm script (npm test) do not make it npx.
  const npmTest = { npm_command: 'run-script', npm_lifecycle_event: 'test', npm_lifecycle_script: 'node scripts/run-tests.mjs' };
  assert.match(commandLine(node('/home/u/proj/bin/medianomaly.js', npmTest), ARGS), /^node bin\/medianomaly\.js /);
});

test('an installed command on the PATH: its bare name; one off the PATH: its path', () => {
  assert.match(commandLine(node('/usr/local/bin/medianomaly', { PATH: '/usr/bin:/usr/local/bin' }), ARGS), /^medianomaly train /);
  assert.match(commandLine(node('/home/u/proj/node_modules/.bin/medianomaly', { PATH: '/usr/bin' }), ARGS), /^node_modules\/\.bin\/medianomaly train /);
});

test('arguments are shell-quoted; resumeCommand adds the flags that are missing', () => {
  assert.is(shellQuote("it's here"), `'it'\\''s here'`);
  assert.is(shellQuote('runs/a-b_1.x'), 'runs/a-b_1.x');
  const ctx = node('/home/u/proj/bin/medianomaly.js');
  assert.is(resumeCommand([...ARGS, '--out', 'my runs/x'], { out: 'ignored', resume: true }, ctx), "node bin/medianomaly.js train --method ae --dataset synth-brain --out 'my runs/x' --resume");
});

test.run();
