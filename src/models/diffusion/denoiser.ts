// What a diffusion method needs from its noise-prediction network: ε̂ = net(x_t, t).
import type { Tensor } from '../../engine/index.js';
import type { Module } from '../../nn/module.js';

/**
 * A U-Net that predicts the noise of x_t at level t. `t` holds one timestep per image of x
 * (integers 0 … T−1 stored as float32, the raw step index the sinusoidal embedding takes);
 * the result ε̂ has the shape of x. Both AnoDDPM's and AutoDDPM's U-Nets implement it.
 */
export interface Denoiser extends Module {
  forward(x: Tensor, t: Float32Array): Tensor;
}
