// AnoDDPM's options (diffusion spec §2), defaults from the paper's configuration (the
// reference's test_args/args26.json Gaussian and args28.json simplex: 256 px, C 128, linear
// schedule, T 1000, 2 heads, sample_distance 800, train_start, batch 1, l2, lr 1e-4, EMA
// 0.9999) and λ = 250 of its ROC code.
import { booleanOption, integerOption, numberOption, stringOption, withDefaults } from '../training/options.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from '../reconstruction/options.js';

export const ANODDPM_OPTIONS = [
  ...withDefaults(
    TRAINING_OPTIONS.map((o) =>
      o.name === 'epochs'
        ? {
            ...o,
            description:
              "training epochs, each one pass over the training images; the reference's 3000 'epochs' are 100 single-image steps each = 300,000 images whatever the data; epochs ≈ 300000 / (training images) matches that",
          }
        : o.name === 'lr'
          ? { ...o, description: 'AdamW learning rate (betas 0.9, 0.999, ε 1e-8; weight decay `weightDecay`; no schedule)' }
          : o,
    ),
    { epochs: 3000, batchSize: 1, lr: 1e-4 },
  ),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 256 }),
  stringOption('noise', 'simplex', "noise of training and sampling: 'simplex' (the paper's AnoDDPM, args28) or 'gaussian' (its DDPM baseline, args26)", ['simplex', 'gaussian']),
  stringOption('loss', 'l2', "training loss: 'l2' (reference), 'l1', or 'hybrid' (l2 + the variational bound in bits)", ['l2', 'l1', 'hybrid']),
  stringOption('schedule', 'linear', "β schedule: 'linear' (1e-4 → 0.02, scaled by 1000/T; reference) or 'cosine'", ['linear', 'cosine']),
  integerOption('timesteps', 1000, 'diffusion steps T of the schedule', { min: 21, max: 100000 }),
  integerOption('level', 250, 'λ: test images are noised to level λ − 1 and denoised in λ steps (λ U-Net calls per image); 250 in the reference ROC code, 200 in its metric code', { min: 1 }),
  booleanOption('trainStart', true, 'train on levels t < min(sampleDistance, T) only (reference train_start); false: all T levels'),
  integerOption('sampleDistance', 800, 'with trainStart, the number of lowest levels trained (reference 800: levels 800–999 never)', { min: 1 }),
  numberOption('weightDecay', 0, 'AdamW weight decay (reference 0)', { min: 0 }),
  numberOption('gradClip', 1, 'global gradient-norm clipping before each step (reference 1.0; 0 = off)', { min: 0 }),
  numberOption('emaDecay', 0.9999, 'decay of the weights\' moving average, used at test and saved with the model (reference 0.9999)', { min: 0, max: 1 }),
  integerOption('baseChannels', 128, 'U-Net base width C (reference 128; a multiple of 32)', { min: 32 }),
  stringOption('channelMults', '', "U-Net width multipliers per level, comma separated; '' = the reference's by size (256: 1,1,2,2,4,4; 128: 1,1,2,3,4; 64 and 32: 1,2,3,4)"),
  integerOption('numResBlocks', 2, 'ResBlocks per U-Net level (reference 2)', { min: 1 }),
  stringOption('attentionResolutions', '32,16,8', 'feature-map sides with self-attention, comma separated (reference 32,16,8; its JSON values are ignored by its training script)'),
  integerOption('heads', 2, 'attention heads (args26/28: 2)', { min: 1 }),
  integerOption('headChannels', -1, 'channels per attention head; −1 = use `heads` (reference)', { min: -1 }),
  numberOption('dropout', 0, 'dropout in the ResBlocks (reference 0)', { min: 0, max: 0.99 }),
  booleanOption('anoddpmEvalHeads1', false, "quirk anoddpmEvalHeads1: score with 1 attention head whatever `heads` trained with, as the reference's detection/evaluation scripts rebuild the net (false: the training heads)"),
  integerOption('simplexOctaves', 6, 'simplex noise: octaves summed (reference 6)', { min: 1, max: 64 }),
  numberOption('simplexPersistence', 0.8, 'simplex noise: amplitude ratio of consecutive octaves (reference 0.8)', { min: 0 }),
  numberOption('simplexFrequency', 64, 'simplex noise: wavelength of the first octave in pixels, halved per octave (reference 64)', { min: 0.001 }),
  booleanOption('simplexShared', false, 'simplex noise: one field for every image of a batch, as the ci-ber/autoDDPM port (false: one per image, as the reference at batch 1)'),
  stringOption(
    'network',
    'anoddpm',
    "'anoddpm': the reference (Julian-Wyatt/AnoDDPM); 'monai': the ci-ber/autoDDPM port (spec §3.8) on the MONAI U-Net: data in [0, 1], Adam without clipping or EMA, t over all T levels, float32 scheduler with σ² = β̃_t, `level` = L (noised to L, L + 1 U-Net calls; the port uses 200, GenAI_UAD 250), x̂ clamped to [0, 1], map |x − x̂|, simplex one field per batch at z 1000",
    ['anoddpm', 'monai'],
  ),
  stringOption('monaiChannels', '128,256,256', 'network monai: output width of each level, comma separated (reference 128,256,256; multiples of 32)'),
  stringOption('monaiAttentionLevels', 'false,true,true', 'network monai: self-attention per level, comma separated true/false (reference false,true,true)'),
  integerOption('monaiResBlocks', 1, 'network monai: resnets per down level (reference 1)', { min: 1 }),
  integerOption('monaiHeadChannels', 256, 'network monai: channels per attention head (reference 256: one head)', { min: 1 }),
  stringOption('imageScore', 'mean', 'image score = mean of the map (reference has none; the ci-ber port uses the mean) or its max', ['mean', 'max']),
  integerOption('scoreBatchSize', 8, 'test images denoised together (each U-Net call takes them all; memory grows with it)', { min: 1 }),
];
