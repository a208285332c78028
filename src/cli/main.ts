#!/usr/bin/env node
// The `sigmtl` command: dispatches to a subcommand and turns errors into one clear line.
import { VERSION } from 'sigmtl';
import { UsageError } from './args.js';
import { check, checkHelp } from './commands/check.js';
import { ddp, ddpHelp } from './commands/ddp.js';
import { doctor, doctorHelp } from './commands/doctor.js';
import { evaluate, evalHelp } from './commands/eval.js';
import { exportHelp, exportModel } from './commands/export.js';
import { predict, predictHelp } from './commands/predict.js';
import { train, trainHelp } from './commands/train.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  train: { run: train, help: trainHelp },
  eval: { run: evaluate, help: evalHelp },
  predict: { run: predict, help: predictHelp },
  export: { run: exportModel, help: exportHelp },
  ddp: { run: ddp, help: ddpHelp },
  check: { run: check, help: checkHelp },
  doctor: { run: doctor, help: doctorHelp },
};

const USAGE = `sigmtl — multi-task models y = A·σ(W·x + b) + c trained on the GPU with WebGPU

Usage: sigmtl <command> [options]    (sigmtl help <command>, or sigmtl <command> --help)
       sigmtl --version

Commands
  train     train on a bundled data set, a CSV file or synthetic data; write a model file
  eval      per-task metrics of a model on a labelled CSV (and its coupling matrix A)
  predict   predictions of a model for a CSV, one column per target
  export    a model for another runtime: ONNX or a PyTorch module
  ddp       a training run written as a PyTorch DDP job (train_ddp.py, data shards, launcher)
  check     every GPU kernel and a training step against the float64 CPU reference
  doctor    the WebGPU adapter, its limits and features
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`sigmtl ${VERSION}\n`);
    return 0;
  }
  if (name === 'help' && rest.length) {
    const command = COMMANDS[rest[0]!];
    if (!command) {
      process.stderr.write(`sigmtl: no command "${rest[0]}" to explain\n\n${USAGE}`);
      return 2;
    }
    process.stdout.write(command.help);
    return 0;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`sigmtl: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`sigmtl ${name}: ${error.message}\n(see sigmtl ${name} --help)\n`);
      return 2;
    }
    const e = error as Error;
    process.stderr.write(`sigmtl ${name}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
    if (process.env.SIGMTL_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
