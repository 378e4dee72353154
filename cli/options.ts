// Parsing helpers for CLI flags: every bad value becomes a one-line CliError naming the flag.
import { CliError } from './errors';

export function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CliError(`${flag} must be a port number between 1 and 65535, got "${value}"`);
  }
  return port;
}

export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

export function parseNonNegativeInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(`${flag} must be a non-negative integer, got "${value}"`);
  return n;
}

/** TEMPORAL_ADDRESS from the flag, else the environment, else localhost:7233. */
export function temporalAddress(flag: string | undefined): string {
  return flag ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
}
