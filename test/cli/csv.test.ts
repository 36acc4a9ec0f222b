// CSV output as RFC 4180 has it: quote a field with a comma, quote, line break or edge space.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvField, csvText } from '../../src/cli/csv.js';

test('csvField quotes only when needed and doubles quotes', () => {
  assert.is(csvField('plain.png'), 'plain.png');
  assert.is(csvField('a,b.png'), '"a,b.png"');
  assert.is(csvField('say "hi"'), '"say ""hi"""');
  assert.is(csvField('two\nlines'), '"two\nlines"');
  assert.is(csvField(' edge'), '" edge"');
  assert.is(csvField(0.5), '0.5');
  assert.is(csvField(null), '');
  assert.is(csvField(undefined), '');
});

test('csvText: header, rows, CRLF line ends', () => {
  assert.is(csvText(['a', 'b'], [[1, 'x,y'], [null, 2]]), 'a,b\r\n1,"x,y"\r\n,2\r\n');
});

test.run();
