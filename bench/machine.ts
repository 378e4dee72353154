// The machine a benchmark ran on, recorded next to its results (bench/results/*.json).
import { cpus, hostname, platform, release } from 'node:os';
import { engineInfo } from '../native';

export interface BenchMachine {
  host: string;
  cpu: string;
  cores: number;
  os: string;
  node: string;
  torch: string;
}

export function benchMachine(): BenchMachine {
  return {
    host: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    os: `${platform()} ${release()}`,
    node: process.version,
    torch: engineInfo().torchVersion,
  };
}
