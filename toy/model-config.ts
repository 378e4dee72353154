// The toy policy's architecture: a tiny Qwen2ForCausalLM (Hugging Face config.json), small enough to SFT
// and RL-train on 2 CPU cores in minutes and to commit (fp32 weights ≤ 5 MB), plus its
// generation_config.json. The sizes were chosen by the measurements in docs/toy.md.
import { EOS_TOKEN, PAD_TOKEN, toyVocabulary } from './tokenizer';

export interface ToyModelShape {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  maxPositions: number;
}

export const TOY_MODEL_SHAPE: ToyModelShape = {
  layers: 4,
  hidden: 128,
  intermediate: 256,
  heads: 4,
  kvHeads: 2,
  maxPositions: 1024,
};

/** config.json of the toy model (the keys transformers' Qwen2Config reads). */
export function toyModelConfig(
  shape: ToyModelShape = TOY_MODEL_SHAPE,
  extraWords: readonly string[] = [],
): Record<string, unknown> {
  const vocab = toyVocabulary(extraWords);
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    vocab_size: vocab.length,
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    head_dim: shape.hidden / shape.heads,
    hidden_act: 'silu',
    max_position_embeddings: shape.maxPositions,
    rms_norm_eps: 1e-6,
    rope_theta: 10000.0,
    attention_dropout: 0.0,
    initializer_range: 0.02,
    tie_word_embeddings: true,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: shape.layers,
    use_cache: true,
    torch_dtype: 'float32',
    bos_token_id: null,
    eos_token_id: vocab.indexOf(EOS_TOKEN),
    pad_token_id: vocab.indexOf(PAD_TOKEN),
  };
}

/** generation_config.json: stop at EOS; the evaluation temperature of the paper (0.6). */
export function toyGenerationConfig(): Record<string, unknown> {
  const vocab = toyVocabulary();
  return {
    eos_token_id: vocab.indexOf(EOS_TOKEN),
    pad_token_id: vocab.indexOf(PAD_TOKEN),
    do_sample: true,
    temperature: 0.6,
    top_p: 0.95,
  };
}

/** Parameters of the shape (tied embeddings counted once): embeddings + per layer attention, MLP, norms. */
export function toyParameterCount(shape: ToyModelShape = TOY_MODEL_SHAPE): number {
  const v = toyVocabulary().length;
  const h = shape.hidden;
  const kv = (h / shape.heads) * shape.kvHeads;
  // q, k, v projections have biases in Qwen2; o_proj does not.
  const attention = h * h + h + 2 * (h * kv + kv) + h * h;
  const mlp = 3 * h * shape.intermediate;
  const norms = 2 * h;
  return v * h + shape.layers * (attention + mlp + norms) + h;
}
