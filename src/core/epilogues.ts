// The matmul's fused epilogues: their codes in the WGSL kernels (EPILOGUE_*, generated from this
// table) and in the CPU engine's WebAssembly (wasm/matmul.ts, checked against it by a test).
export const Epilogue = { none: 0, bias: 1, biasSigmoid: 2, sigmoidGrad: 3 } as const;
export type EpilogueName = keyof typeof Epilogue;
