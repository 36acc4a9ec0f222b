// Every built-in method, one import per file; importing a file registers its definitions
// (see ./catalogue.ts). The order here is the order `methods.list()` reports.
import './reconstruction/ae.js';
import './reconstruction/ae-ssim.js';
import './reconstruction/ae-perceptual.js';
import './reconstruction/ae-spatial.js';
import './reconstruction/ae-grad.js';
import './reconstruction/constrained-ae.js';
import './reconstruction/memae.js';
import './reconstruction/ceae.js';
import './reconstruction/aeu.js';
import './reconstruction/vae.js';
import './reconstruction/ganomaly.js';
import './reconstruction/dae.js';
import './reconstruction/fanogan.js';
import './feature-reference/patchcore.js';
import './feature-reference/padim.js';
import './feature-reference/resnet18-in.js';
import './feature-reconstruction/fae.js';
import './flows/cflow.js';
import './flows/fastflow.js';
import './self-supervised/cutpaste.js';
import './self-supervised/fpi.js';
import './self-supervised/pii.js';
import './self-supervised/nsa.js';
import './self-supervised/cutpaste-2stage.js';
import './self-supervised/anatpaste.js';
import './self-supervised/draem.js';
