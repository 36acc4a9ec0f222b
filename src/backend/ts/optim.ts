// Optimizer steps, operation for operation as torch.optim.Adam and torch.optim.SGD
// (single-tensor path). State arrays are updated in place.
import type { AdamParams, F32, SgdParams } from '../types.js';

/**
 * Adam with L2 weight decay folded into the gradient (not AdamW):
 *   g ← grad + wd·θ;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
 *   v̂ ← max(vmax, v) with amsgrad (vmax keeps it), else v
 *   θ ← θ − lr/(1 − β1^t) · m / (√v̂ / √(1 − β2^t) + eps)
 */
export function adamStep(p: AdamParams, param: F32, grad: F32, m: F32, v: F32, vmax: F32 | null): void {
  const { n, lr, beta1, beta2, eps, weightDecay, step, amsgrad } = p;
  const stepSize = lr / (1 - Math.pow(beta1, step));
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  for (let i = 0; i < n; i++) {
    const g = weightDecay !== 0 ? grad[i] + weightDecay * param[i] : grad[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    let second = v[i];
    if (amsgrad && vmax) {
      if (v[i] > vmax[i]) vmax[i] = v[i];
      second = vmax[i];
    }
    param[i] -= (stepSize * m[i]) / (Math.sqrt(second) / bc2Sqrt + eps);
  }
}

/**
 * SGD with momentum, dampening and Nesterov:
 *   d ← grad + wd·θ
 *   momentum ≠ 0: buf ← d on the first step, else buf ← μ·buf + (1 − dampening)·d;
 *                 d ← d + μ·buf (Nesterov) or d ← buf
 *   θ ← θ − lr·d
 */
export function sgdStep(p: SgdParams, param: F32, grad: F32, momentumBuf: F32 | null): void {
  const { n, lr, momentum, dampening, weightDecay, nesterov, firstStep } = p;
  const useMomentum = momentum !== 0 && momentumBuf !== null;
  for (let i = 0; i < n; i++) {
    let d = weightDecay !== 0 ? grad[i] + weightDecay * param[i] : grad[i];
    if (useMomentum) {
      const buf = firstStep ? d : momentum * momentumBuf[i] + (1 - dampening) * d;
      momentumBuf[i] = buf;
      // The stored (float32) buffer is what PyTorch uses in the Nesterov update.
      d = nesterov ? d + momentum * momentumBuf[i] : momentumBuf[i];
    }
    param[i] -= lr * d;
  }
}
