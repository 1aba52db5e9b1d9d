// The `wasm` engine's kernels (entry point of the AssemblyScript build, scripts/build-wasm.mjs).
export * from './gemm';
export * from './vector';
