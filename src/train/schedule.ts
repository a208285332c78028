// Learning-rate schedules, as a function of the 0-based step.
export const SCHEDULE_KINDS = ['constant', 'step', 'cosine'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export interface Schedule {
  kind: ScheduleKind;
  /** Linear warm-up from 0 over this many steps. */
  warmupSteps: number;
  /** 'step': multiply by `gamma` every `stepEvery` steps. */
  stepEvery: number;
  gamma: number;
  /** 'cosine': the rate decays to base·minFactor at the last step. */
  minFactor: number;
}

export const DEFAULT_SCHEDULE: Schedule = { kind: 'constant', warmupSteps: 0, stepEvery: 1000, gamma: 0.5, minFactor: 0.01 };

export function learningRateAt(base: number, s: Schedule, step: number, totalSteps: number): number {
  const warm = s.warmupSteps > 0 && step < s.warmupSteps ? (step + 1) / s.warmupSteps : 1;
  switch (s.kind) {
    case 'step':
      return base * warm * s.gamma ** Math.floor(step / Math.max(1, s.stepEvery));
    case 'cosine': {
      const span = Math.max(1, totalSteps - s.warmupSteps - 1);
      const progress = Math.min(1, Math.max(0, step - s.warmupSteps) / span);
      return base * warm * (s.minFactor + (1 - s.minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    default:
      return base * warm;
  }
}
