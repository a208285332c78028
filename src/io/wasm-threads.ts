// The CPU engine's threads in Node: worker_threads that instantiate the shared-memory build of
// the matmul on the engine's memory and run `compute` on the ranges of column panels they are
// sent. A worker keeps the process alive only while it has work (unref'd in between).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ThreadPool } from '../cpu/wasm-matmul.js';

// Plain script (eval'd): instantiate on the shared memory, then compute(...args) per message.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
parentPort.on('message', (args) => {
  instance.exports.compute(...args);
  parentPort.postMessage(0);
});
`;

export function nodeThreadPool(module: WebAssembly.Module, memory: WebAssembly.Memory, workers: number): ThreadPool {
  const pool = Array.from({ length: workers }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory } });
    worker.unref();
    return worker;
  });
  return {
    workers,
    compute(index, args) {
      const worker = pool[index]!;
      return new Promise<void>((resolve, reject) => {
        const done = () => {
          worker.off('error', failed);
          worker.unref();
          resolve();
        };
        const failed = (error: Error) => {
          worker.off('message', done);
          worker.unref();
          reject(new Error(`CPU engine worker ${index}: ${error.message}`));
        };
        worker.once('message', done);
        worker.once('error', failed);
        worker.ref();
        worker.postMessage(args);
      });
    },
    close() {
      for (const worker of pool) void worker.terminate();
    },
  };
}

/** Threads by default: every core the process may use. */
export const nodeThreads = () => availableParallelism();
