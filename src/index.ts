/// <reference types="@webgpu/types" preserve="true" />
// sigmtl: multi-task models y = A·σ(W·x + b) + c trained with WebGPU (or the float64 CPU
// backend), in browsers and in Node. This entry uses no Node built-ins; `sigmtl/node` adds Dawn,
// files and the bundled data sets.
export { train, TrainingDivergedError, type TrainResult } from './api/train.js';
export { ddpJob, type DdpJob, type DdpJobFile } from './api/ddp.js';
export { deltaM, taskDeltaM, type SingleTaskComparison } from './api/compare.js';
export type { RowSource, RowWindow } from './data/source.js';
export { STREAM_SAMPLE_ROWS, STREAM_VALIDATION_CAP } from './api/stream.js';
export type {
  TrainOptions,
  StreamTrainOptions,
  Matrix,
  LossChoice,
  BackendChoice,
  OptimizerOptions,
  ScheduleOptions,
  CouplingOptionsInput as CouplingOptions,
  EpochReport,
} from './api/options.js';
export { Model, loadModel, type CouplingMatrix, type ModelParameters, type PredictOptions } from './api/model.js';
export { check, doctor, type CheckOptions, type DoctorResult } from './api/check.js';
export {
  syntheticData,
  readBundledDataset,
  readCsvText,
  csvColumns,
  BUNDLED_DATASETS,
  type LabelledData,
  type DatasetSplits,
  type SyntheticOptions,
  type ReadCsvOptions,
  type BundledName,
  type DatasetMeta,
} from './api/datasets.js';
export type { CheckReport, CheckRow } from './verify/check.js';
export type { DoctorReport } from './verify/doctor.js';
export type { ProgressReport, SearchProgress } from './train/trainer.js';
export type { SearchCandidate, SearchEntry, SearchReport } from './api/search.js';
export type { MetricsReport, TaskMetrics, RegressionMetrics, BinaryMetrics, OverallMetrics } from './train/metrics.js';
export { DataError } from './data/csv.js';
export { SafetensorsError } from './io/safetensors.js';
export { isCheckpoint } from './io/checkpoint.js';
export { adapterLabel, deviceLabel, describeDevice, type AdapterSummary } from './gpu/context.js';
export { browserHasWebGpu, requestBrowserDevice } from './gpu/browser.js';

// Advanced: the backends and the model's building blocks, for people who schedule steps themselves.
export { createWebGpuBackend, createCpuBackend, createWasmBackend, type WebGpuBackendOptions } from './backends/index.js';
export { createWasmMatmul, nativeProductBuilds, wasmRelaxedSimdSupported, wasmSimdSupported, type WasmKernelOptions, type WasmMatmul } from './cpu/wasm-matmul.js';
export type { TrainingBackend, BackendConfig, Dataset, TrainStep, LossReport, GradientReport } from './core/backend.js';
export { parameterLayout, PARAMETER_NAMES, type ModelShape, type ParameterLayout, type ParameterName, type Segment } from './core/shape.js';
export { LOSSES, LOSS_KINDS, resolveLoss, isLossSpec, type LossKind, type LossSpec, type TaskSpec, type LossEntry, type LossParameter, type ResolvedLoss } from './core/losses.js';
export {
  OPTIMIZERS,
  OPTIMIZER_KINDS,
  DEFAULT_OPTIMIZER,
  newOptimizerState,
  type OptimizerConfig,
  type OptimizerKind,
  type OptimizerState,
  type CouplingOptions as BackendCouplingOptions,
} from './core/optimizers.js';
export { WEIGHTINGS, WEIGHTING_KINDS, AGGREGATOR_KINDS, type WeightingKind, type AggregatorKind, type WeightingEntry, type StepHook } from './core/weighting.js';
export { aggregatorWeights } from './cpu/aggregators.js';
export { initParameters, type CouplingInit } from './core/init.js';
export { gpuMatmul, gpuSigmoid, type MatmulDims } from './api/kernels.js';
export { matmulReference, forward as referenceForward } from './cpu/reference.js';
export { sigmoid } from './core/losses.js';
export { SCHEDULE_KINDS, type Schedule, type ScheduleKind } from './train/schedule.js';

/** The package version. */
export const VERSION: string = import.meta.env?.SIGMTL_VERSION ?? '0.0.0-dev';
