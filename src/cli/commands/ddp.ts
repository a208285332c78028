// `sigmtl ddp`: the options of `sigmtl train`, written as a PyTorch DDP job (src/api/ddp.ts)
// into a directory instead of trained here.
import { ddpJob, loadDataset, writeDdpJob } from 'sigmtl/node';
import { flag, parse, text, UsageError } from '../args.js';
import { createOutput } from '../output.js';
import { checkCouplingFile, trainJobFromArgs, trainOptions } from '../train-job.js';

export const ddpHelp = `sigmtl ddp — write a training run as a PyTorch DDP job

Usage: sigmtl ddp --data <yeast|enb2012|sarcos-arm|synthetic|file.csv> [train options] --out DIR

Writes DIR/train_ddp.py (PyTorch only), DIR/launch.sh, DIR/job.json, DIR/init.safetensors,
DIR/data/*.npy (the standardised training and validation rows) and DIR/README.md. The job takes
the steps \`sigmtl train\` would take with the same options — the global batch is --batch-size,
split across the ranks — and rank 0 writes DIR/model.safetensors, which sigmtl predict, eval,
export and loadModel read.

  --out DIR      the job's directory: new, empty, or an earlier job (default runs/<data>-ddp)
  (data, model and optimisation options: as sigmtl train --help)

Not in a DDP job: --weighting famo|mgda|pcgrad|upgrad, --hidden auto, --stream, --resume,
--checkpoint, --backend, --verify-every, --baseline, --compare-single-task.

Run it:
  python3 DIR/train_ddp.py                       one rank
  sh DIR/launch.sh 2                             two ranks here (RANK, WORLD_SIZE, MASTER_ADDR/PORT set for you)
  torchrun --nproc_per_node=2 DIR/train_ddp.py   (Debian's torchrun fails on Python 3.11: use launch.sh)

Example
  sigmtl ddp --data enb2012 --epochs 50 --out runs/enb-ddp && sh runs/enb-ddp/launch.sh 2
`;

/** Flags of sigmtl train that a DDP job has no use for. */
const NOT_IN_A_JOB = ['stream', 'memory-budget', 'checkpoint', 'checkpoint-every', 'resume', 'backend', 'verify-every', 'baseline', 'compare-single-task', 'report-every'];

export async function ddp(argv: string[]): Promise<number> {
  const p = parse(argv, trainOptions);
  if (flag(p, 'help')) {
    process.stdout.write(ddpHelp);
    return 0;
  }
  for (const name of NOT_IN_A_JOB) if (p.values[name] !== undefined) throw new UsageError(`--${name} is an option of sigmtl train; a DDP job does not take it`);
  const job = await trainJobFromArgs(p);
  const name = job.data === '-' ? 'stdin' : job.data.replace(/^.*\//, '').replace(/\.csv$/i, '');
  const dir = text(p, 'out', `runs/${name}-ddp`)!;
  if (dir === '-') throw new UsageError('--out must be a directory: a DDP job is several files');
  const out = createOutput(flag(p, 'json'), flag(p, 'quiet'));
  const dataset = await loadDataset(job.data, job.load);
  if (job.options.hidden === undefined)
    process.stderr.write(
      `note: H = T = ${dataset.train.taskNames.length}: a DDP job does not run sigmtl train's model search; give --hidden (sigmtl train reports the H its search chose)\n`,
    );
  if (dataset.metaFile) process.stderr.write(`note: columns from ${dataset.metaFile}\n`);
  checkCouplingFile(job, dataset.train.taskNames.length);
  const written = ddpJob({ ...dataset.train, ...job.options, test: dataset.test, testSplit: dataset.test ? 0 : job.testSplit, provenance: { data: dataset.name } });
  await writeDdpJob(dir, written);
  const { features: d, hidden: H, tasks: T } = written.shape;
  out.info(
    `sigmtl ddp: ${dataset.name}, ${written.trainingRows} training rows, ${written.validationRows} validation rows, d=${d}, H=${H}, T=${T}; global batch ${written.batch}, ${written.stepsPerEpoch} steps per epoch`,
  );
  out.info(`wrote ${dir}/: ${written.files.map((f) => f.path).join(', ')}`);
  out.info(`run: sh ${dir}/launch.sh 2   (or python3 ${dir}/train_ddp.py, or torchrun --nproc_per_node=2 ${dir}/train_ddp.py); it writes ${dir}/model.safetensors`);
  out.result({
    dir,
    files: written.files.map((f) => f.path),
    trainingRows: written.trainingRows,
    validationRows: written.validationRows,
    batch: written.batch,
    stepsPerEpoch: written.stepsPerEpoch,
    shape: written.shape,
    losses: written.losses,
  });
  return 0;
}
