// Typed TypeScript API of the siri native engine (C++ on libtorch, see native/src/).
// Long-running calls return Promises and run off the JS thread; C++ exceptions arrive as JS Errors.
import { loadBinding } from './binding';

export interface EngineInfo {
  /** libtorch version the addon was compiled against, e.g. "2.13.0". */
  torchVersion: string;
  /** Whether this build contains siri's CUDA kernels. */
  builtWithCuda: boolean;
  /** Whether libtorch sees a CUDA device at run time. */
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  /** Intra-op (ATen) thread count. */
  threads: number;
  /** ATen's description of its parallel backend (OpenMP / threads). */
  parallelInfo: string;
}

export function engineInfo(): EngineInfo {
  return loadBinding().engineInfo() as EngineInfo;
}

/** Sets ATen's intra-op thread count (same threads ⇒ same results for the same seed). */
export function setNumThreads(threads: number): void {
  loadBinding().setNumThreads(threads);
}

/** Test hook: raises a C++ exception inside the addon ('std' or 'torch'), which must surface as an Error. */
export function throwNative(kind: 'std' | 'torch'): never {
  loadBinding().throwNative(kind);
  throw new Error('unreachable: throwNative returned');
}
