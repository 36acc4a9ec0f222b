// Method names and their options, as types: `createMethod('ae', { epochs: 20 })` checks the
// name and every option at compile time. Each entry is derived (OptionsOf) from the spec
// list the method registers, so the types and the run-time validation come from one
// declaration. A method added to builtin.ts needs an entry here and in BUILTIN_METHOD_NAMES;
// test/methods/options-map.test.ts compares both with the registry.
//
// Values are imported as types only: this file adds no import (and no registration) at run time.
import type { OptionSpec } from './types.js';
import type { OptionsOf } from './training/options.js';
import type { AESpec } from './reconstruction/options.js';
import type { AE_SSIM_OPTIONS } from './reconstruction/ae-ssim.js';
import type { AE_PERCEPTUAL_OPTIONS } from './reconstruction/ae-perceptual.js';
import type { CONSTRAINED_AE_OPTIONS } from './reconstruction/constrained-ae.js';
import type { MEMAE_OPTIONS } from './reconstruction/memae.js';
import type { CEAE_OPTIONS } from './reconstruction/ceae.js';
import type { VAE_OPTIONS } from './reconstruction/vae.js';
import type { GANOMALY_OPTIONS } from './reconstruction/ganomaly.js';
import type { DAE_OPTIONS } from './reconstruction/dae.js';
import type { FANOGAN_OPTIONS } from './reconstruction/fanogan.js';
import type { ANODDPM_OPTIONS } from './diffusion/anoddpm-options.js';
import type { AUTODDPM_OPTIONS } from './diffusion/autoddpm.js';
import type { PATCHCORE_METHOD_OPTIONS } from './feature-reference/patchcore.js';
import type { PADIM_METHOD_OPTIONS } from './feature-reference/padim.js';
import type { RESNET18_IN_METHOD_OPTIONS } from './feature-reference/resnet18-in.js';
import type { FAE_OPTIONS } from './feature-reconstruction/fae.js';
import type { RD4AD_METHOD_OPTIONS } from './feature-reconstruction/rd4ad.js';
import type { RDPP_METHOD_OPTIONS } from './feature-reconstruction/rdpp.js';
import type { RECONTRAST_METHOD_OPTIONS } from './feature-reconstruction/recontrast.js';
import type { CFLOW_OPTIONS } from './flows/cflow.js';
import type { FASTFLOW_OPTIONS } from './flows/fastflow.js';
import type { CUTPASTE_2STAGE_OPTIONS } from './self-supervised/cutpaste-2stage.js';
import type { ANATPASTE_OPTIONS } from './self-supervised/anatpaste.js';
import type { ONE_STAGE_OPTIONS } from './self-supervised/one-stage.js';
import type { DRAEM_OPTIONS } from './self-supervised/draem.js';

type Specs<L extends readonly OptionSpec[]> = L[number];
type AE<Extra extends OptionSpec = never> = OptionsOf<AESpec | Extra>;
type VAE = AE<Specs<typeof VAE_OPTIONS>>;

/** The built-in methods' options, by method name. */
export interface BuiltinMethodOptions {
  'ae': AE;
  'ae-l1': AE;
  'ae-ssim': AE<Specs<typeof AE_SSIM_OPTIONS>>;
  'ae-perceptual': AE<Specs<typeof AE_PERCEPTUAL_OPTIONS>>;
  'ae-spatial': AE;
  'ae-grad': AE;
  'constrained-ae': AE<Specs<typeof CONSTRAINED_AE_OPTIONS>>;
  'memae': AE<Specs<typeof MEMAE_OPTIONS>>;
  'ceae': AE<Specs<typeof CEAE_OPTIONS>>;
  'aeu': AE;
  'vae': VAE;
  'vae-elbo': VAE;
  'vae-kl': VAE;
  'vae-rec': VAE;
  'vae-combi': VAE;
  'ganomaly': OptionsOf<Specs<typeof GANOMALY_OPTIONS>>;
  'dae': OptionsOf<Specs<typeof DAE_OPTIONS>>;
  'fanogan': OptionsOf<Specs<typeof FANOGAN_OPTIONS>>;
  'anoddpm': OptionsOf<Specs<typeof ANODDPM_OPTIONS>>;
  'autoddpm': OptionsOf<Specs<typeof AUTODDPM_OPTIONS>>;
  'patchcore': OptionsOf<Specs<typeof PATCHCORE_METHOD_OPTIONS>>;
  'padim': OptionsOf<Specs<typeof PADIM_METHOD_OPTIONS>>;
  'resnet18-in': OptionsOf<Specs<typeof RESNET18_IN_METHOD_OPTIONS>>;
  'fae': OptionsOf<Specs<typeof FAE_OPTIONS>>;
  'rd4ad': OptionsOf<Specs<typeof RD4AD_METHOD_OPTIONS>>;
  'rdpp': OptionsOf<Specs<typeof RDPP_METHOD_OPTIONS>>;
  'recontrast': OptionsOf<Specs<typeof RECONTRAST_METHOD_OPTIONS>>;
  'cflow': OptionsOf<Specs<typeof CFLOW_OPTIONS>>;
  'fastflow': OptionsOf<Specs<typeof FASTFLOW_OPTIONS>>;
  'cutpaste-2stage': OptionsOf<Specs<typeof CUTPASTE_2STAGE_OPTIONS>>;
  'anatpaste': OptionsOf<Specs<typeof ANATPASTE_OPTIONS>>;
  'cutpaste': OptionsOf<Specs<typeof ONE_STAGE_OPTIONS>>;
  'fpi': OptionsOf<Specs<typeof ONE_STAGE_OPTIONS>>;
  'pii': OptionsOf<Specs<typeof ONE_STAGE_OPTIONS>>;
  'nsa': OptionsOf<Specs<typeof ONE_STAGE_OPTIONS>>;
  'draem': OptionsOf<Specs<typeof DRAEM_OPTIONS>>;
}

/** Method name → the options object `createMethod` takes for it. */
export interface MethodOptionsMap extends BuiltinMethodOptions {}

/** A method name `createMethod` accepts as a literal. */
export type MethodName = keyof MethodOptionsMap & string;

/** The names of BuiltinMethodOptions as a value, for the test that compares them with the registry. */
export const BUILTIN_METHOD_NAMES = [
  'ae', 'ae-l1', 'ae-ssim', 'ae-perceptual', 'ae-spatial', 'ae-grad', 'constrained-ae', 'memae', 'ceae', 'aeu',
  'vae', 'vae-elbo', 'vae-kl', 'vae-rec', 'vae-combi', 'ganomaly', 'dae', 'fanogan',
  'anoddpm',
  'autoddpm',
  'patchcore', 'padim', 'resnet18-in',
  'fae', 'rd4ad', 'rdpp', 'recontrast',
  'cflow', 'fastflow',
  'cutpaste-2stage', 'anatpaste',
  'cutpaste', 'fpi', 'pii', 'nsa',
  'draem',
] as const satisfies readonly (keyof BuiltinMethodOptions)[];

// Every key of BuiltinMethodOptions is in the list (the `satisfies` above checks the converse).
type Unlisted = Exclude<keyof BuiltinMethodOptions, (typeof BUILTIN_METHOD_NAMES)[number]>;
const everyNameListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyNameListed;
