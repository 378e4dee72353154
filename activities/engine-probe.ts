/**
 * engineProbe: reports the native engine's build and devices, and which worker answered.
 * Inputs: none. Output: EngineProbeResult. Idempotent (read-only). No heartbeat (sub-second).
 */
import { hostname } from 'node:os';
import { engineInfo } from '../native';

export interface EngineProbeResult {
  host: string;
  pid: number;
  torchVersion: string;
  builtWithCuda: boolean;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  threads: number;
}

export async function engineProbe(): Promise<EngineProbeResult> {
  const info = engineInfo();
  return {
    host: hostname(),
    pid: process.pid,
    torchVersion: info.torchVersion,
    builtWithCuda: info.builtWithCuda,
    cudaAvailable: info.cudaAvailable,
    cudaDeviceCount: info.cudaDeviceCount,
    threads: info.threads,
  };
}
