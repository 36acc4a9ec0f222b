// Weight initialisation, as torch.nn.init, filling tensors in place and returning them.
// Every draw comes from a seeded Generator: the one passed in, else the engine's default
// generator (seeded by manualSeed), so that a run is reproducible from its seed.
import { defaultGenerator, Generator, type Tensor } from '../engine/index.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv_transpose2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

/** Where a layer's random draws come from: an explicit generator, a seed, or the default generator. */
export interface RandomSource {
  generator?: Generator;
  seed?: number;
}

export function resolveGenerator(src: RandomSource = {}): Generator {
  if (src.generator && src.seed !== undefined) throw new Error('give either generator or seed, not both');
  if (src.generator) return src.generator;
  if (src.seed !== undefined) return new Generator(src.seed);
  return defaultGenerator();
}

/** torch.nn.init.calculate_gain. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv_transpose2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity "${nonlinearity as string}"`);
  }
}

/**
 * PyTorch's fan computation: fan_in = shape[1] · receptive field, fan_out = shape[0] · receptive
 * field. For a ConvTranspose2d weight [in, out/groups, kh, kw] this makes fan_in the layer's
 * output channels per group times the kernel area, exactly as PyTorch does.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fans: a weight needs at least 2 dims to have fan in and fan out, got shape [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export function uniform<T extends Tensor>(t: T, low = 0, high = 1, src?: RandomSource): T {
  const g = resolveGenerator(src);
  g.fillUniform(t.data, low, high - low);
  return t;
}

export function normal<T extends Tensor>(t: T, mean = 0, std = 1, src?: RandomSource): T {
  const g = resolveGenerator(src);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = mean + std * g.normal();
  return t;
}

export function constant<T extends Tensor>(t: T, value: number): T {
  t.data.fill(value);
  return t;
}

export function zeros<T extends Tensor>(t: T): T {
  return constant(t, 0);
}

export function ones<T extends Tensor>(t: T): T {
  return constant(t, 1);
}

export interface KaimingOptions extends RandomSource {
  /** Negative slope of the rectifier after this layer (leaky_relu only). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const f = fans(t.shape);
  const fan = (opts.mode ?? 'fan_in') === 'fan_in' ? f.fanIn : f.fanOut;
  if (fan === 0) throw new Error(`kaiming init: fan is 0 for shape [${t.shape.join(', ')}]`);
  return calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0) / Math.sqrt(fan);
}

/** U(±gain·√(3/fan)); defaults a = 0, fan_in, leaky_relu as PyTorch. */
export function kaimingUniform<T extends Tensor>(t: T, opts: KaimingOptions = {}): T {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform(t, -bound, bound, opts);
}

/** N(0, gain²/fan). */
export function kaimingNormal<T extends Tensor>(t: T, opts: KaimingOptions = {}): T {
  return normal(t, 0, kaimingStd(t, opts), opts);
}

/** U(±gain·√(6/(fan_in + fan_out))). */
export function xavierUniform<T extends Tensor>(t: T, opts: RandomSource & { gain?: number } = {}): T {
  const { fanIn, fanOut } = fans(t.shape);
  const bound = (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound, opts);
}

/** N(0, gain²·2/(fan_in + fan_out)). */
export function xavierNormal<T extends Tensor>(t: T, opts: RandomSource & { gain?: number } = {}): T {
  const { fanIn, fanOut } = fans(t.shape);
  return normal(t, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), opts);
}

/**
 * The default of Conv*d and Linear (reset_parameters): weight kaiming_uniform with a = √5,
 * which is U(±1/√fan_in); bias U(±1/√fan_in) with fan_in from the weight.
 */
export function defaultLayerInit(weight: Tensor, bias: Tensor | null, src?: RandomSource): void {
  const g = resolveGenerator(src);
  kaimingUniform(weight, { a: Math.sqrt(5), generator: g });
  if (bias) {
    const { fanIn } = fans(weight.shape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform(bias, -bound, bound, { generator: g });
  }
}
