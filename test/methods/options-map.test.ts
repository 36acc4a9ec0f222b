// Method names and options are typed (src/methods/options-map.ts). The compile-time half is
// checked by `npm run typecheck`, which covers this file: each @ts-expect-error below must
// be an error, or the type check fails. The run-time half: the type map's names are the
// registry's, and each entry is derived from the spec list the method registers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createMethod, methods } from '../../src/methods/index.js';
import type { MethodName, MethodOptionsMap } from '../../src/methods/index.js';
import { BUILTIN_METHOD_NAMES } from '../../src/methods/options-map.js';
import type { OptionSpec } from '../../src/methods/types.js';
import { aeMethodOptions } from '../../src/methods/reconstruction/options.js';
import { AE_SSIM_OPTIONS } from '../../src/methods/reconstruction/ae-ssim.js';
import { AE_PERCEPTUAL_OPTIONS } from '../../src/methods/reconstruction/ae-perceptual.js';
import { CONSTRAINED_AE_OPTIONS } from '../../src/methods/reconstruction/constrained-ae.js';
import { MEMAE_OPTIONS } from '../../src/methods/reconstruction/memae.js';
import { CEAE_OPTIONS } from '../../src/methods/reconstruction/ceae.js';
import { VAE_OPTIONS } from '../../src/methods/reconstruction/vae.js';
import { GANOMALY_OPTIONS } from '../../src/methods/reconstruction/ganomaly.js';
import { DAE_OPTIONS } from '../../src/methods/reconstruction/dae.js';
import { FANOGAN_OPTIONS } from '../../src/methods/reconstruction/fanogan.js';
import { ANODDPM_OPTIONS } from '../../src/methods/diffusion/anoddpm-options.js';
import { AUTODDPM_OPTIONS } from '../../src/methods/diffusion/autoddpm.js';
import { PATCHCORE_METHOD_OPTIONS } from '../../src/methods/feature-reference/patchcore.js';
import { PADIM_METHOD_OPTIONS } from '../../src/methods/feature-reference/padim.js';
import { RESNET18_IN_METHOD_OPTIONS } from '../../src/methods/feature-reference/resnet18-in.js';
import { FAE_OPTIONS } from '../../src/methods/feature-reconstruction/fae.js';
import { RD4AD_METHOD_OPTIONS } from '../../src/methods/feature-reconstruction/rd4ad.js';
import { RDPP_METHOD_OPTIONS } from '../../src/methods/feature-reconstruction/rdpp.js';
import { RECONTRAST_METHOD_OPTIONS } from '../../src/methods/feature-reconstruction/recontrast.js';
import { CFLOW_OPTIONS } from '../../src/methods/flows/cflow.js';
import { FASTFLOW_OPTIONS } from '../../src/methods/flows/fastflow.js';
import { CUTPASTE_2STAGE_OPTIONS } from '../../src/methods/self-supervised/cutpaste-2stage.js';
import { ANATPASTE_OPTIONS } from '../../src/methods/self-supervised/anatpaste.js';
import { ONE_STAGE_OPTIONS } from '../../src/methods/self-supervised/one-stage.js';
import { DRAEM_OPTIONS } from '../../src/methods/self-supervised/draem.js';

/** Never called: it only has to type-check (and each @ts-expect-error to be an error). */
function compileTimeChecks(name: string): void {
  createMethod('ae', { epochs: 20, size: 64, seed: 0, imageScore: 'max' });
  createMethod('memae', { memSlots: 10, shrinkThreshold: 0 });
  createMethod('fanogan', { encoderEpochs: 3, nCritic: 2 });
  createMethod('nsa', { crop: null, workers: 0, sslSourcePreviousSample: false });
  createMethod(name, { anything: 1 }); // a name held in a string is checked at run time
  // @ts-expect-error: misspelt method name
  createMethod('aee', { epochs: 1 });
  // @ts-expect-error: wrong option type
  createMethod('ae', { epochs: '20' });
  // @ts-expect-error: misspelt option
  createMethod('ae', { epoch: 20 });
  // @ts-expect-error: not one of the choices
  createMethod('dae', { imageScore: 'median' });
  // @ts-expect-error: another method's option
  createMethod('ae', { memSlots: 10 });
  // @ts-expect-error: null where the default is not null
  createMethod('vae', { klWeight: null });
  const typed: MethodOptionsMap['vae-elbo'] = { klWeight: 0.01, vaeSampleAtTest: false };
  createMethod('vae-elbo', typed);
  createMethod('cutpaste-2stage', { variant: 'normal', twoStageRepeat3000: false, imageScore: 'classifier' });
  // @ts-expect-error: not one of the variants
  createMethod('cutpaste-2stage', { variant: 'scar' });
  createMethod('anatpaste', { anatPasteDarkRegion: false, workers: null });
  createMethod('draem', { textures: 'dtd/images', reconstructiveWidth: 16, scoreSmoothing: 1 });
  // @ts-expect-error: DRAEM has no imageScore option (its score rule is scoreSmoothing)
  createMethod('draem', { imageScore: 'max' });
  const n: MethodName = 'ganomaly';
  void n;
}
void compileTimeChecks;

test('every registered method has an entry in the type map, and every entry a registered method', () => {
  assert.equal([...BUILTIN_METHOD_NAMES].sort(), methods.names().sort());
});

test("each entry's spec list is the one the method registers (so the derived type matches run-time validation)", () => {
  const specs: Record<(typeof BUILTIN_METHOD_NAMES)[number], readonly OptionSpec[]> = {
    'ae': aeMethodOptions(), 'ae-l1': aeMethodOptions(), 'ae-spatial': aeMethodOptions(), 'ae-grad': aeMethodOptions(), 'aeu': aeMethodOptions(),
    'ae-ssim': aeMethodOptions(AE_SSIM_OPTIONS), 'ae-perceptual': aeMethodOptions(AE_PERCEPTUAL_OPTIONS), 'constrained-ae': aeMethodOptions(CONSTRAINED_AE_OPTIONS),
    'memae': aeMethodOptions(MEMAE_OPTIONS), 'ceae': aeMethodOptions(CEAE_OPTIONS),
    'vae': aeMethodOptions(VAE_OPTIONS), 'vae-elbo': aeMethodOptions(VAE_OPTIONS), 'vae-kl': aeMethodOptions(VAE_OPTIONS),
    'vae-rec': aeMethodOptions(VAE_OPTIONS), 'vae-combi': aeMethodOptions(VAE_OPTIONS),
    'ganomaly': GANOMALY_OPTIONS, 'dae': DAE_OPTIONS, 'fanogan': FANOGAN_OPTIONS,
    'anoddpm': ANODDPM_OPTIONS,
    'autoddpm': AUTODDPM_OPTIONS,
    'patchcore': PATCHCORE_METHOD_OPTIONS, 'padim': PADIM_METHOD_OPTIONS, 'resnet18-in': RESNET18_IN_METHOD_OPTIONS,
    'fae': FAE_OPTIONS, 'rd4ad': RD4AD_METHOD_OPTIONS, 'rdpp': RDPP_METHOD_OPTIONS, 'recontrast': RECONTRAST_METHOD_OPTIONS,
    'cflow': CFLOW_OPTIONS, 'fastflow': FASTFLOW_OPTIONS,
    'cutpaste-2stage': CUTPASTE_2STAGE_OPTIONS, 'anatpaste': ANATPASTE_OPTIONS,
    'cutpaste': ONE_STAGE_OPTIONS, 'fpi': ONE_STAGE_OPTIONS, 'pii': ONE_STAGE_OPTIONS, 'nsa': ONE_STAGE_OPTIONS,
    'draem': DRAEM_OPTIONS,
  };
  for (const name of BUILTIN_METHOD_NAMES) {
    assert.equal(methods.info(name).options.map((o) => [o.name, o.type]), specs[name].map((o) => [o.name, o.type]), name);
  }
});

test('the same mistakes fail at run time for JavaScript callers and string names', () => {
  const dynamic: string = 'aee';
  assert.throws(() => createMethod(dynamic), /unknown method "aee"/);
  assert.throws(() => createMethod('ae' as string, { epochs: '20' }), /option "epochs" must be a finite number/);
});

test.run();
