// Task relations (the Gramian of per-task gradients of W and b) against hand-built cases with
// known answers, and against separate backward passes of the reference.
import { expect, test } from 'vitest';
import { parameterLayout } from '../src/core/shape.js';
import { backward, forward, taskLoss } from '../src/cpu/reference.js';
import { taskRelations } from '../src/train/relations.js';
import type { TaskSpec } from '../src/core/losses.js';

const shape = { features: 2, hidden: 2, tasks: 2 };
const layout = parameterLayout(shape);
const mse: TaskSpec[] = [
  { loss: 'mse', weight: 1 },
  { loss: 'mse', weight: 1 },
];

/** Parameters with W = [[w00, w01], [w10, w11]], b = 0, A = [[a00, a01], [a10, a11]], c = 0. */
function params(W: number[], A: number[]) {
  const p = new Float64Array(layout.count);
  p.set(W, layout.W.offset);
  p.set(A, layout.A.offset);
  return p;
}

const X = Float32Array.from([1, 0.5, -0.3, 2, 0.7, -1.2]);
const rows = 3;

test('two tasks that are the same task: cosine 1', () => {
  const p = params([0.4, -0.2, 0.3, 0.1], [1, 0.5, 1, 0.5]);
  const Y = Float32Array.from([1, 1, 0, 0, 2, 2]);
  const r = taskRelations(p, layout, { rows, X, Y, mask: new Float32Array(6).fill(1) }, mse);
  expect(r.cosine[1]).toBeCloseTo(1, 12);
  expect(r.gramian[1]).toBeCloseTo(r.gramian[0]!, 12);
});

test('tasks on disjoint hidden units: cosine 0', () => {
  const p = params([0.4, -0.2, 0.3, 0.1], [1, 0, 0, 1]);
  const Y = Float32Array.from([1, -1, 0, 2, 2, 0.5]);
  const r = taskRelations(p, layout, { rows, X, Y, mask: new Float32Array(6).fill(1) }, mse);
  expect(r.cosine[1]).toBe(0);
  expect(r.cosine[0]).toBeCloseTo(1, 12);
});

test('targets on opposite sides of one prediction: cosine −1', () => {
  const p = params([0.4, -0.2, 0.3, 0.1], [1, 0.5, 1, 0.5]);
  const yhat = forward(p, layout, X, rows).Y; // both tasks predict the same
  const Y = Float32Array.from({ length: 6 }, (_, i) => yhat[i]! + (i % 2 === 0 ? 0.25 : -0.25));
  const r = taskRelations(p, layout, { rows, X, Y, mask: new Float32Array(6).fill(1) }, mse);
  expect(r.cosine[1]).toBeCloseTo(-1, 6);
});

test('the Gramian equals inner products of separate backward passes, one task at a time', () => {
  const p = params([0.4, -0.2, 0.3, 0.1], [0.7, -0.5, 0.2, 1.1]);
  p[layout.b.offset] = 0.3;
  const Y = Float32Array.from([1, 0, 0.5, 1, -1, 0]);
  const tasks: TaskSpec[] = [
    { loss: 'mse', weight: 2 },
    { loss: 'bce', weight: 1 },
  ];
  const mask = new Float32Array(6).fill(1);
  const r = taskRelations(p, layout, { rows, X, Y, mask }, tasks);
  // Each task alone: the other task's weight set to 0, a full backward pass.
  const alone = (t: number) => {
    const only = tasks.map((task, k) => ({ ...task, weight: k === t ? task.weight : 0 }));
    const { S, Y: out } = forward(p, layout, X, rows);
    const g = backward(p, layout, X, S, taskLoss(out, Y, mask, only, rows).gradY, rows);
    return [...g.subarray(layout.W.offset, layout.W.offset + 4), ...g.subarray(layout.b.offset, layout.b.offset + 2)];
  };
  const [j0, j1] = [alone(0), alone(1)];
  const dot = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
  expect(r.gramian[0]).toBeCloseTo(dot(j0, j0), 12);
  expect(r.gramian[1]).toBeCloseTo(dot(j0, j1), 12);
  expect(r.gramian[3]).toBeCloseTo(dot(j1, j1), 12);
});
