// ddpJob(): a training run handed to PyTorch DDP as a self-contained job. sigmtl does what
// `train` does before the first step — options checked, splits, losses, standardisation, the
// initial parameters — and writes the rest for PyTorch: the settings (job.json), the initial
// model in sigmtl's model format (init.safetensors), the standardised rows as .npy arrays,
// train_ddp.py (src/io/ddp-script.ts), launch.sh and a README. Rank 0 of the job writes
// model.safetensors, which sigmtl reads as it reads its own.
import { initParameters } from '../core/init.js';
import { WEIGHTINGS } from '../core/weighting.js';
import type { Dataset } from '../core/backend.js';
import { DDP_JOB_FORMAT, ddpScript, LAUNCH_SCRIPT, type DdpJob, type DdpJobFile } from '../io/ddp-script.js';

export type { DdpJob, DdpJobFile };
import { encodeModel } from '../io/model-format.js';
import { encodeNpy } from '../io/npy.js';
import { planBackend, prepareRows, trainedModelOf } from './train.js';
import { resolveSettings, type Settings, type TrainOptions } from './options.js';

/** What DDP cannot do as sigmtl does it, and why. */
function refusals(options: TrainOptions, settings: Settings): Array<[boolean, string]> {
  const w = settings.weighting;
  return [
    [WEIGHTINGS[w].ddpRefusal !== undefined, `weighting '${w}' is not available in a DDP job: ${WEIGHTINGS[w].ddpRefusal}`],
    [settings.hidden === 'auto', "hidden: 'auto' trains several models; choose H (sigmtl train --hidden auto finds one) and write the job for it"],
    [settings.compareSingleTask, 'compareSingleTask trains extra models; run it with sigmtl train'],
    [settings.verifyEvery > 0, "verifyEvery checks sigmtl's own backends; the DDP job is checked against sigmtl by its tests"],
    ['stream' in options, 'a DDP job is written from rows in memory, not from a stream'],
    [options.resume !== undefined, 'a DDP job starts from the initial parameters; resume is not available'],
  ];
}

const text = (s: string) => new TextEncoder().encode(s);

/** The job's files for these options (those of train(); the refusals above are errors). */
export function ddpJob(options: TrainOptions, version = String(import.meta.env?.SIGMTL_VERSION ?? '0.0.0-dev')): DdpJob {
  const settings = resolveSettings(options);
  for (const [refused, why] of refusals(options, settings)) if (refused) throw new RangeError(why);
  const problem = prepareRows(options, settings);
  const plan = planBackend(problem, settings);
  const params = initParameters(plan.shape, settings.seed, plan.aInit);
  const initial = encodeModel(trainedModelOf(problem, plan, params, options.provenance));
  const { features: d, tasks: T } = plan.shape;
  const arrays = (name: string, data: Dataset): DdpJobFile[] => [
    { path: `data/${name}_x.npy`, bytes: encodeNpy(data.X, [data.rows, d]) },
    { path: `data/${name}_y.npy`, bytes: encodeNpy(data.Y, [data.rows, T]) },
    { path: `data/${name}_mask.npy`, bytes: encodeNpy(data.mask, [data.rows, T]) },
  ];
  const settingsFile = {
    format: DDP_JOB_FORMAT,
    version: 1,
    sigmtl: version,
    shape: plan.shape,
    features: problem.featureNames,
    targets: problem.targetNames,
    losses: problem.losses,
    taskWeights: plan.config.tasks.map((task) => task.weight),
    weighting: { kind: settings.weighting, dwaTemperature: settings.dwaTemperature },
    optimizer: settings.optimizer,
    schedule: settings.schedule,
    coupling: { freeze: settings.coupling.freeze, l1: settings.coupling.l1, towardIdentity: settings.coupling.towardIdentity },
    batch: plan.batch,
    epochs: settings.epochs,
    patience: problem.validation ? settings.patience : 0,
    shuffle: settings.shuffle,
    seed: settings.seed,
    rows: { train: problem.train.data.rows, validation: problem.validation?.data.rows ?? 0, test: problem.test?.data.rows ?? 0 },
  };
  const files: DdpJobFile[] = [
    { path: 'train_ddp.py', bytes: text(ddpScript(problem.losses, settings.weighting, version)), executable: true },
    { path: 'launch.sh', bytes: text(LAUNCH_SCRIPT), executable: true },
    { path: 'job.json', bytes: text(JSON.stringify(settingsFile, null, 2) + '\n') },
    { path: 'init.safetensors', bytes: initial },
    ...arrays('train', problem.train.data),
    ...(problem.validation ? arrays('validation', problem.validation.data) : []),
  ];
  const job = {
    files,
    shape: plan.shape,
    losses: problem.losses,
    trainingRows: problem.train.data.rows,
    validationRows: problem.validation?.data.rows ?? 0,
    batch: plan.batch,
    stepsPerEpoch: plan.stepsPerEpoch,
  };
  files.push({ path: 'README.md', bytes: text(jobReadme(job, settingsFile.rows.test)) });
  return job;
}

function jobReadme(job: DdpJob, testRows: number): string {
  const { features: d, hidden: H, tasks: T } = job.shape;
  return `# A sigmtl training job for PyTorch DDP

The model y = A·σ(W·x + b) + c (d = ${d} features, H = ${H} hidden units, T = ${T} tasks: ${job.losses.join(', ')}),
${job.trainingRows} training rows${job.validationRows ? ` and ${job.validationRows} validation rows (early stopping)` : ''}, a global batch of ${job.batch} rows
(${job.stepsPerEpoch} steps per epoch) split across the ranks. It takes the steps \`sigmtl train\` takes
with the same options: the same seeded shuffle, losses, weighting, optimizer and schedule; each
task's mean loss is over the global batch's labels, whatever the number of ranks.

## Run

    python3 train_ddp.py                        # one rank
    sh launch.sh 2                              # two ranks on this machine, without torchrun
    torchrun --nproc_per_node=2 train_ddp.py    # two ranks with torchrun

Several machines: every machine holds this directory; start torchrun on each with
\`--nnodes=N --node_rank=I --nproc_per_node=P --master_addr=HOST --master_port=PORT\` (or set
RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each process).
torchrun of Debian's PyTorch 1.13 fails on Python 3.11: use launch.sh or the variables there.

Options of train_ddp.py: \`--dtype float32|float64\` (default float32), \`--device auto|cpu|cuda\`
(auto: CUDA with NCCL where present, else the CPU with gloo), \`--threads N\` per rank,
\`--out FILE\` (default model.safetensors here). Needs PyTorch only.

## Files

- \`job.json\`: the settings sigmtl resolved (losses, task weights, weighting, optimizer, schedule, batch, epochs, seed).
- \`init.safetensors\`: the initial model, in sigmtl's model format, with the standardisation fitted on the training rows.
- \`data/train_{x,y,mask}.npy\`${job.validationRows ? ', `data/validation_{x,y,mask}.npy`' : ''}: standardised features and targets (float32; mask 0 where a label is missing).
- \`model.safetensors\`, written by rank 0: read it with \`sigmtl predict\`, \`sigmtl eval\`, \`sigmtl export\` or \`loadModel\`.
${testRows ? `\nThe ${testRows} test rows sigmtl held out are not here: evaluate the model with \`sigmtl eval\` on the data you gave sigmtl.\n` : ''}`;
}
