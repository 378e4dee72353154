// Typed TypeScript API of the siri native engine (C++ on libtorch, see native/src/).
// Long-running calls return Promises and run off the JS thread; C++ exceptions arrive as JS Errors.
import { loadBinding } from './binding';
import { verifyCheckpoint, saveCheckpointAtomically } from './checkpoint';

export { PolicyTokenizer } from './tokenizer';
export { CheckpointError, verifyCheckpoint } from './checkpoint';

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

/**
 * Test hook: runs every fused CPU kernel (RMSNorm, SwiGLU, q|k|v split + RoPE) and its plain ATen
 * composition on random inputs; returns the largest relative error of each output and gradient by name.
 */
export function fusedOpsSelfCheck(seed = 0): Record<string, number> {
  return loadBinding().fusedOpsSelfCheck(seed) as Record<string, number>;
}

/** Test hook: raises a C++ exception inside the addon ('std' or 'torch'), which must surface as an Error. */
export function throwNative(kind: 'std' | 'torch'): never {
  loadBinding().throwNative(kind);
  throw new Error('unreachable: throwNative returned');
}

// ---------------------------------------------------------------------------------------------------------
// Policy: a Qwen2 causal LM on the native engine.

/** A Hugging Face Qwen2 config.json (snake_case as on disk); unknown fields are kept and written back. */
export type * from './types';
import type {
  Qwen2Config,
  LoadOptions,
  ComputeDtype,
  InitOptions,
  SaveOptions,
  ProgressEvent,
  GenerateOptions,
  GenerateResult,
  LogprobsOptions,
  LogprobsResult,
  TrainBatch,
  TrainStepOptions,
  TrainStepResult,
} from './types';

interface NativeGenerateOutput {
  ids: Int32Array;
  offsets: Int32Array;
  logprobs: Float32Array;
  samplingLogprobs: Float32Array;
  stopped: Uint8Array;
}

interface NativePolicy {
  save(dir: string, options: object): Promise<string[]>;
  generate(
    ids: Int32Array,
    offsets: Int32Array,
    options: object,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<NativeGenerateOutput>;
  logprobs(
    ids: Int32Array,
    offsets: Int32Array,
    mask: Uint8Array,
    options: object,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<{ logprobs: Float32Array; entropies: Float32Array }>;
  trainStep(
    ids: Int32Array,
    offsets: Int32Array,
    mask: Uint8Array,
    advantages: Float32Array | null,
    oldLogprobs: Float32Array | null,
    refLogprobs: Float32Array | null,
    options: object,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<TrainStepResult>;
  forwardLogits(ids: Int32Array, offsets: Int32Array): Promise<Float32Array>;
  configJson(): string;
  numParameters(): number;
  step(): number;
  device(): string;
  computeDtype(): ComputeDtype;
  hasOptimizerState(): boolean;
  dispose(): void;
}

interface FlatTokens {
  ids: Int32Array;
  offsets: Int32Array;
}

function isIntegerArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v));
}

/** Checks number[][] of token ids and packs it into one Int32Array with offsets. */
function flattenTokens(rows: unknown, what: string, vocabSize: number): FlatTokens {
  if (!Array.isArray(rows)) throw new TypeError(`${what} must be an array of token-id arrays`);
  let total = 0;
  rows.forEach((row, i) => {
    if (!Array.isArray(row)) throw new TypeError(`${what}[${i}] must be an array of token ids`);
    if (row.length === 0) throw new RangeError(`${what}[${i}] is empty`);
    total += row.length;
  });
  if (total > 0x7fffffff) throw new RangeError(`${what} has ${total} tokens, more than one call can take`);
  const ids = new Int32Array(total);
  const offsets = new Int32Array(rows.length + 1);
  let k = 0;
  (rows as unknown[][]).forEach((row, i) => {
    row.forEach((id, t) => {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new RangeError(
          `${what}[${i}][${t}] = ${String(id)} is not a token id (vocab_size ${vocabSize})`,
        );
      }
      ids[k++] = id;
    });
    offsets[i + 1] = k;
  });
  return { ids, offsets };
}

/** Checks a per-token array-of-arrays against the sequences' lengths and packs it. */
function flattenAligned<T extends Uint8Array | Float32Array>(
  rows: unknown,
  what: string,
  lengths: Int32Array,
  make: (n: number) => T,
  check: (v: number) => boolean,
  expected: string,
): T {
  const count = lengths.length - 1;
  if (!Array.isArray(rows) || rows.length !== count) {
    throw new RangeError(
      `${what} must have one entry per sequence (${count}), got ${Array.isArray(rows) ? rows.length : typeof rows}`,
    );
  }
  const out = make(lengths[count]!);
  rows.forEach((row: unknown, i: number) => {
    const len = lengths[i + 1]! - lengths[i]!;
    const values = row as ArrayLike<number> | undefined;
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new TypeError(`${what}[${i}] must be an array`);
    }
    if (values.length !== len) {
      throw new RangeError(`${what}[${i}] has ${values.length} entries but sequence ${i} has ${len} tokens`);
    }
    for (let t = 0; t < len; t++) {
      const v = values[t]!;
      if (typeof v !== 'number' || !check(v))
        throw new RangeError(`${what}[${i}][${t}] = ${String(v)} must be ${expected}`);
      out[lengths[i]! + t] = v;
    }
  });
  return out;
}

function splitRows<T extends Float32Array | Int32Array>(flat: T, offsets: Int32Array): T[] {
  const rows: T[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) rows.push(flat.subarray(offsets[i], offsets[i + 1]) as T);
  return rows;
}

function checkPositiveInteger(value: unknown, what: string, allowZero = false): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${what} must be an integer >= ${allowZero ? 0 : 1}, got ${String(value)}`);
  }
}

export class Policy {
  private native: NativePolicy | undefined;
  /** Parsed config.json of the model (as it will be saved). */
  readonly config: Qwen2Config;

  private constructor(
    native: NativePolicy,
    /** Where tokenizer/generation files are copied from on save (the directory last loaded or saved). */
    private companionDir: string | undefined,
  ) {
    this.native = native;
    this.config = JSON.parse(native.configJson()) as Qwen2Config;
  }

  /** Loads a Hugging Face model directory or a checkpoint we saved (verified against its manifest first). */
  static async load(dir: string, options: LoadOptions = {}): Promise<Policy> {
    await verifyCheckpoint(dir);
    const native = (await loadBinding().loadPolicy(dir, {
      device: options.device ?? 'cpu',
      threads: options.threads ?? 0,
      optimizer: options.optimizer ?? true,
      computeDtype: options.computeDtype ?? 'float32',
    })) as NativePolicy;
    return new Policy(native, dir);
  }

  /** A randomly initialised model (transformers' Qwen2 init: normal(0, initializer_range)), seeded. */
  static async init(config: Qwen2Config, options: InitOptions): Promise<Policy> {
    checkPositiveInteger(options.seed, 'seed', true);
    const native = (await loadBinding().initPolicy(JSON.stringify({ model_type: 'qwen2', ...config }), {
      seed: options.seed,
      device: options.device ?? 'cpu',
      dtype: options.dtype ?? 'float32',
      threads: options.threads ?? 0,
      computeDtype: options.computeDtype ?? 'float32',
    })) as NativePolicy;
    return new Policy(native, undefined);
  }

  private get handle(): NativePolicy {
    if (this.native === undefined) throw new Error('policy was disposed');
    return this.native;
  }

  /**
   * Saves weights (safetensors, HF names) + config.json + tokenizer files + optimizer state + RNG state +
   * step, atomically (temp dir, fsync, rename) with a sha256 manifest.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    const handle = this.handle;
    await saveCheckpointAtomically(
      dir,
      handle.step(),
      (tmp) =>
        handle.save(tmp, {
          optimizer: options.optimizer ?? true,
          weightsDtype: options.weightsDtype ?? 'original',
          ...(options.maxShardBytes !== undefined ? { maxShardBytes: options.maxShardBytes } : {}),
        }),
      this.companionDir,
    );
    this.companionDir = dir;
  }

  async generate(promptIds: number[][], options: GenerateOptions): Promise<GenerateResult[]> {
    const prompts = flattenTokens(promptIds, 'promptIds', this.config.vocab_size);
    checkPositiveInteger(options.samplesPerPrompt, 'samplesPerPrompt');
    checkPositiveInteger(options.maxNewTokens, 'maxNewTokens', true);
    if (options.stopTokenIds !== undefined && !isIntegerArray(options.stopTokenIds)) {
      throw new TypeError('stopTokenIds must be an array of token ids');
    }
    const out = await this.handle.generate(
      prompts.ids,
      prompts.offsets,
      {
        samplesPerPrompt: options.samplesPerPrompt,
        maxNewTokens: options.maxNewTokens,
        temperature: options.temperature,
        topP: options.topP ?? 1,
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        stopTokenIds: Int32Array.from(options.stopTokenIds ?? []),
        maxBatch: options.maxBatch ?? 0,
        ...(options.kvCacheBytes !== undefined ? { kvCacheBytes: options.kvCacheBytes } : {}),
        continuousBatching: options.continuousBatching ?? true,
        kvCacheDtype: options.kvCacheDtype ?? 'float32',
      },
      options.onProgress,
    );
    const logprobs = splitRows(out.logprobs, out.offsets);
    const samplingLogprobs = splitRows(out.samplingLogprobs, out.offsets);
    const results: GenerateResult[] = [];
    for (let r = 0; r + 1 < out.offsets.length; r++) {
      const tokenIds = Array.from(out.ids.subarray(out.offsets[r], out.offsets[r + 1]));
      results.push({
        promptIndex: Math.floor(r / options.samplesPerPrompt),
        sampleIndex: r % options.samplesPerPrompt,
        tokenIds,
        logprobs: logprobs[r]!,
        samplingLogprobs: samplingLogprobs[r]!,
        length: tokenIds.length,
        finishReason: out.stopped[r] ? 'stop' : 'length',
      });
    }
    return results;
  }

  /** Per-token log-probs and entropies of the masked tokens, chunked so [tokens × vocab] is never whole. */
  async logprobs(
    sequences: number[][],
    responseMask: number[][],
    options: LogprobsOptions = {},
  ): Promise<LogprobsResult> {
    const seqs = flattenTokens(sequences, 'sequences', this.config.vocab_size);
    const mask = flattenAligned(
      responseMask,
      'responseMask',
      seqs.offsets,
      (n) => new Uint8Array(n),
      (v) => v === 0 || v === 1,
      '0 or 1',
    );
    const out = await this.handle.logprobs(
      seqs.ids,
      seqs.offsets,
      mask,
      {
        temperature: options.temperature ?? 1,
        ...(options.microBatchTokens !== undefined ? { microBatchTokens: options.microBatchTokens } : {}),
      },
      options.onProgress,
    );
    return {
      logprobs: splitRows(out.logprobs, seqs.offsets),
      entropies: splitRows(out.entropies, seqs.offsets),
    };
  }

  /** One optimizer step (GRPO/DAPO or SFT) over the whole batch, in micro-batches of `microBatchTokens`. */
  async trainStep(batch: TrainBatch, options: TrainStepOptions): Promise<TrainStepResult> {
    const seqs = flattenTokens(batch.sequences, 'sequences', this.config.vocab_size);
    const count = seqs.offsets.length - 1;
    const mask = flattenAligned(
      batch.responseMask,
      'responseMask',
      seqs.offsets,
      (n) => new Uint8Array(n),
      (v) => v === 0 || v === 1,
      '0 or 1',
    );
    const finite = (v: number): boolean => Number.isFinite(v);
    let advantages: Float32Array | null = null;
    if (batch.advantages !== undefined) {
      if (!Array.isArray(batch.advantages) || batch.advantages.length !== count) {
        throw new RangeError(
          `advantages must have one value per sequence (${count}), got ${Array.isArray(batch.advantages) ? batch.advantages.length : typeof batch.advantages}`,
        );
      }
      batch.advantages.forEach((a, i) => {
        if (typeof a !== 'number' || !Number.isFinite(a))
          throw new RangeError(`advantages[${i}] = ${String(a)} must be a finite number`);
      });
      advantages = Float32Array.from(batch.advantages);
    } else if (options.loss === 'grpo') {
      throw new RangeError('advantages are required for the grpo loss');
    }
    const old =
      batch.oldLogprobs === undefined
        ? null
        : flattenAligned(
            batch.oldLogprobs,
            'oldLogprobs',
            seqs.offsets,
            (n) => new Float32Array(n),
            finite,
            'finite',
          );
    const ref =
      batch.refLogprobs === undefined
        ? null
        : flattenAligned(
            batch.refLogprobs,
            'refLogprobs',
            seqs.offsets,
            (n) => new Float32Array(n),
            finite,
            'finite',
          );
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    const nativeOptions: Record<string, unknown> = {
      loss: options.loss,
      lossAggregation: options.lossAggregation,
      lr: options.lr,
      beta1,
      beta2,
    };
    for (const key of [
      'clipLow',
      'clipHigh',
      'clipC',
      'klCoef',
      'entropyCoef',
      'temperature',
      'eps',
      'weightDecay',
      'gradClip',
      'microBatchTokens',
      'activationCheckpointing',
    ] as const) {
      if (options[key] !== undefined) nativeOptions[key] = options[key];
    }
    return this.handle.trainStep(
      seqs.ids,
      seqs.offsets,
      mask,
      advantages,
      old,
      ref,
      nativeOptions,
      options.onProgress,
    );
  }

  /** Full logits [L_i × vocab] of each sequence, row-major (for small tests). */
  async forwardLogits(ids: number[][]): Promise<Float32Array[]> {
    const seqs = flattenTokens(ids, 'ids', this.config.vocab_size);
    const flat = await this.handle.forwardLogits(seqs.ids, seqs.offsets);
    const V = this.config.vocab_size;
    const rows: Float32Array[] = [];
    for (let i = 0; i + 1 < seqs.offsets.length; i++)
      rows.push(flat.subarray(seqs.offsets[i]! * V, seqs.offsets[i + 1]! * V));
    return rows;
  }

  numParameters(): number {
    return this.handle.numParameters();
  }

  /** Optimizer steps taken (restored from checkpoints). */
  get step(): number {
    return this.handle.step();
  }

  get device(): string {
    return this.handle.device();
  }

  get computeDtype(): ComputeDtype {
    return this.handle.computeDtype();
  }

  hasOptimizerState(): boolean {
    return this.handle.hasOptimizerState();
  }

  /** Frees the weights and optimizer state (calls still running finish first). Later calls throw. */
  dispose(): void {
    this.native?.dispose();
    this.native = undefined;
  }
}
