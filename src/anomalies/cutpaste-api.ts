// The public `anomalies.cutpaste` namespace: CutPaste-Normal and CutPaste-Scar (methods.md §7.2).
export { normal, scar, type CutPasteNormalOptions, type CutPasteScarOptions, type CutPasteResult } from './cutpaste.js';
