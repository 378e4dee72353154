// The engine's public types: model config, load/init/save options, and the options and results of
// generate, logprobs and trainStep (the N-API binding's contract is native/src/INTERFACE.md).

export interface Qwen2Config {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings?: number;
  rope_theta?: number;
  rms_norm_eps?: number;
  tie_word_embeddings?: boolean;
  initializer_range?: number;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  [key: string]: unknown;
}

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type WeightsDtype = 'float32' | 'bfloat16' | 'float16';

export interface LoadOptions {
  device?: Device;
  /** Intra-op threads for every call on this policy (0/undefined: libtorch's default). */
  threads?: number;
  /** Restore optimizer.safetensors when present (default true; false for inference-only workers). */
  optimizer?: boolean;
  /** dtype of the trunk's matrix multiplies (default float32); see InitOptions.computeDtype. */
  computeDtype?: ComputeDtype;
}

/**
 * float32: everything in fp32. bfloat16: the trunk's GEMMs round their inputs and weights to bf16 (fp32
 * accumulation and outputs, fp32 master weights, norms, attention and LM head) — several times faster on
 * CPUs with AMX/AVX512-BF16, at bf16 precision of the hidden states.
 */
export type ComputeDtype = 'float32' | 'bfloat16';

export interface InitOptions {
  seed: number;
  device?: Device;
  /** Storage dtype: what save() writes and what init rounds the random weights to (compute is fp32). */
  dtype?: WeightsDtype;
  threads?: number;
  computeDtype?: ComputeDtype;
}

export interface SaveOptions {
  /** Write the AdamW state (default true when the policy has one). */
  optimizer?: boolean;
  /** 'original' (default) writes each tensor in the dtype it was read/initialised in; float32 keeps full precision. */
  weightsDtype?: 'original' | WeightsDtype;
  /** Shard the weights (model-0000i-of-0000n.safetensors + index) above this many bytes (default 5 GiB). */
  maxShardBytes?: number;
}

export interface ProgressEvent {
  phase: 'prefill' | 'decode' | 'microbatch' | 'logprobs';
  current: number;
  total: number;
  /** prefill: sequences running once the prompts are admitted; decode: sequences still running. */
  active: number;
  /** generate (prefill, decode): prompts admitted into the decode batch so far. */
  admitted?: number;
}

export interface GenerateOptions {
  samplesPerPrompt: number;
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus sampling mass in (0, 1]; default 1. */
  topP?: number;
  /** Same seed + device + threads ⇒ identical tokens. Without a seed the policy's checkpointed RNG is used. */
  seed?: number;
  /** Generation of a sample ends after it emits one of these (the stop token is included in tokenIds). */
  stopTokenIds?: number[];
  /**
   * Decode slots: most sequences decoded together, in whole prompts (all samples of a prompt are admitted
   * together); default all.
   */
  maxBatch?: number;
  /** And at most this much KV cache for the slots (default 4 GiB), counted in kvCacheDtype's bytes. */
  kvCacheBytes?: number;
  /**
   * Storage of the KV cache: 'float32' (default) or 'bfloat16' — half the memory and the bytes each decode
   * step reads; attention then multiplies bf16 keys/values (softmax stays fp32), so log-probs move by about
   * bf16 rounding (~1e-2) and sampled tokens can differ from the fp32 cache's.
   */
  kvCacheDtype?: 'float32' | 'bfloat16';
  /**
   * When the prompts do not all fit in the slots: admit waiting prompts into the slots that finished
   * samples free while the others keep decoding (default true: long samples do not stall short ones), or
   * decode one group of prompts to its end before the next (false). A sample's tokens do not depend on
   * this, nor on maxBatch / kvCacheBytes (same seed ⇒ same tokens, up to float rounding).
   */
  continuousBatching?: boolean;
  onProgress?: (event: ProgressEvent) => void;
}

export interface GenerateResult {
  promptIndex: number;
  sampleIndex: number;
  tokenIds: number[];
  /**
   * log π(token) under the policy itself (temperature 1, full vocabulary) for each sampled token — the
   * "old log-probs" of a PPO/GRPO update whose trainStep runs at temperature 1.
   */
  logprobs: Float32Array;
  /** log q(token) under the distribution actually sampled from (after temperature and top-p); 0 when greedy. */
  samplingLogprobs: Float32Array;
  length: number;
  finishReason: 'stop' | 'length';
}

export interface LogprobsOptions {
  /** Divide the logits by this before the softmax (default 1). */
  temperature?: number;
  /** Padded tokens per forward pass (default 16384). */
  microBatchTokens?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface LogprobsResult {
  /** Per sequence, aligned with its tokens: [t] = log p(token t | tokens < t) where the mask is 1, else 0. */
  logprobs: Float32Array[];
  /** Per sequence, aligned with its tokens: entropy of the next-token distribution predicting token t. */
  entropies: Float32Array[];
}

export interface TrainBatch {
  sequences: number[][];
  /** 1 where the token is a response token whose log-prob is trained; [i][0] must be 0. */
  responseMask: number[][];
  /** One advantage per sequence (required for grpo). */
  advantages?: number[];
  /** Aligned with the tokens (as logprobs() returns them); omitted = on-policy (ratio 1). */
  oldLogprobs?: ArrayLike<number>[];
  /** Aligned with the tokens; required when klCoef != 0. */
  refLogprobs?: ArrayLike<number>[];
}

export type LossAggregation = 'token-mean' | 'seq-mean-token-sum' | 'seq-mean-token-mean';

export interface TrainStepOptions {
  loss: 'grpo' | 'sft';
  clipLow?: number;
  clipHigh?: number;
  /** Dual-clip constant (> 1) for negative advantages. */
  clipC?: number;
  lossAggregation: LossAggregation;
  klCoef?: number;
  entropyCoef?: number;
  /** Temperature of the policy whose log-probs are trained (default 1). */
  temperature?: number;
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Global grad-norm clip; <= 0 disables. */
  gradClip?: number;
  /** Padded tokens per micro-batch (gradient accumulation is exact across micro-batches). */
  microBatchTokens?: number;
  /**
   * Activation checkpointing: keep only each decoder layer's input and recompute the layer in the
   * backward pass — the same gradients for one more trunk forward, with far less activation memory.
   */
  activationCheckpointing?: boolean;
  onProgress?: (event: ProgressEvent) => void;
}

export interface TrainStepResult {
  loss: number;
  clipFracLow: number;
  clipFracHigh: number;
  /** Mean k3(π_old‖π_θ) over response tokens. */
  approxKl: number;
  /** Mean k3(π_ref‖π_θ) over response tokens (0 without klCoef). */
  refKl: number;
  /** Mean next-token entropy over response tokens. */
  entropy: number;
  /** Global gradient L2 norm before clipping. */
  gradNorm: number;
  tokens: number;
  microBatches: number;
  /** Optimizer steps taken so far, this one included. */
  step: number;
}
