// The harness: training runs into run folders, evaluation, off-main-thread fit/test,
// benchmarks and their report. The library's async API runs fit and test in a worker
// thread (fitInWorker, testInWorker); train/testRun are the same work in the calling thread.
export { evaluate, metricsOf, scoreAndEvaluate, type RunMetrics, type ImageMetricsRecord, type PixelMetricsRecord } from './evaluate.js';
export { train, testRun, loadDataset, type TrainSpec, type TrainHooks, type TrainOutcome, type TrainPlan } from './train.js';
export { fitInWorker, testInWorker, runInWorker, type WorkerHooks } from './in-worker.js';
export { RunInterrupted, isAbortError } from './interrupted.js';
export {
  readRunFile, readLog, isRunFolder, type DatasetSpec, type RunRecordFile, type EpochLogLine, type ScoresFile,
  RUN_FILE, LOG_FILE, METRICS_FILE, SCORES_FILE, CHECKPOINT_DIR,
} from './run-folder.js';
export { runBench, plannedRuns, BenchInterrupted, type BenchSettings, type BenchFile, type BenchHooks, type BenchResult } from './bench.js';
export { summarize, markdownTable, formatCell, type RunRecord, type SummaryRow, type Cell } from './summary.js';
export { QUICK, quickMethods, quickDescription } from './quick.js';
export { predictFiles, loadRun, type Prediction, type PredictResult, type PredictOptions, type AppliedThreshold } from './predict.js';
export { calibrate, calibrateRun, readCalibration, DEFAULT_QUANTILE, CALIBRATION_FILE, type Calibration, type MapScale } from './calibration.js';
export { calibrateRunFolder, type CalibrateRunOptions } from './calibrate-run.js';
export { writeReport, reportHtml, reportInputs, type ReportOptions } from './report/index.js';
export { profileStep, type StepProfile } from './report/profile-step.js';
export { defaultEpochs } from './options.js';
