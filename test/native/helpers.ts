// Shared helpers of the native engine tests: tiny Qwen2 configs, temp dirs, running the venv's Python
// (transformers/torch as an independent reference), and small numeric utilities.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Qwen2Config } from '../../native';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const venvPython = join(projectRoot, '.venv', 'bin', 'python');

/** 2 layers, hidden 64, 4 heads / 2 KV heads (GQA), vocab 512: the shape of the reference fixtures. */
export function tinyConfig(overrides: Partial<Qwen2Config> = {}): Qwen2Config {
  return {
    vocab_size: 512,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 2048,
    rope_theta: 10000.0,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    // A wider init than the default 0.02 so the random model has peaked, position-dependent outputs.
    initializer_range: 0.2,
    ...overrides,
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `siri-native-${prefix}-`));
}

/** Runs a Python snippet in the project venv; returns its stdout. */
export function runPython(code: string, args: string[] = []): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      venvPython,
      ['-c', code, ...args],
      { maxBuffer: 1 << 28, env: { ...process.env, TRANSFORMERS_VERBOSITY: 'error' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`python failed: ${err.message}\n${stderr}`));
        else resolvePromise(stdout);
      },
    );
  });
}

/** Deterministic pseudo-random token ids (LCG) so tests do not depend on Math.random. */
export function randomIds(count: number, vocab: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s % vocab);
  }
  return out;
}

export function logSumExp(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return max + Math.log(sum);
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

export function assertClose(actual: number, expected: number, rel: number, what: string): void {
  const tol = rel * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: ${actual} vs expected ${expected} (tolerance ${tol})`);
  }
}
