// --opt values: numbers and booleans are parsed, except for options the named methods declare
// as strings (a list option such as AnoDDPM's attentionResolutions=16 keeps its text).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../src/methods/index.js';
import { methodOptionValues } from '../../src/cli/method-options.js';

test('numbers and booleans are parsed for number and boolean options', () => {
  const v = methodOptionValues({ opt: ['hidden=64', 'lr=0.001'] }, ['ae']);
  assert.equal(v, { hidden: 64, lr: 0.001 });
  assert.equal(methodOptionValues({ opt: ['daeSharedRoll=false'] }, ['dae']), { daeSharedRoll: false });
});

test('a string option keeps numeric-looking text', () => {
  assert.equal(methodOptionValues({ opt: ['attentionResolutions=16'] }, ['anoddpm']), { attentionResolutions: '16' });
  // Without method names, every registered method that has the option decides.
  assert.equal(methodOptionValues({ opt: ['attentionResolutions=16'] }), { attentionResolutions: '16' });
});

test('an unknown option is parsed as before (createMethod names it)', () => {
  assert.equal(methodOptionValues({ opt: ['nosuch=3'] }, ['ae']), { nosuch: 3 });
  assert.throws(() => methodOptionValues({ opt: ['=3'] }), /name=value/);
});

test.run();
