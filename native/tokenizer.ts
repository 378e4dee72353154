// The model directory's tokenizer (tokenizer.json, BPE as in Qwen2 or WordLevel for small models) through
// @huggingface/tokenizers, plus what generation needs from the directory: the end-of-sequence ids
// (generation_config.json, else config.json, else tokenizer_config.json's eos_token) and special tokens.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export interface EncodeOptions {
  /** Add the post-processor's special tokens (BOS etc.); default false, as chat prompts carry their own. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (EOS, chat markers) from the text; default false. */
  skipSpecialTokens?: boolean;
}

type JsonObject = Record<string, unknown>;

async function readJsonIfPresent(path: string): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as JsonObject;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function idList(value: unknown): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value))
    return value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v));
  return [];
}

/** tokenizer_config.json writes special tokens as "text" or {"content": "text", ...}. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as JsonObject).content === 'string') {
    return (value as JsonObject).content as string;
  }
  return undefined;
}

export class PolicyTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** End-of-sequence ids generation stops at (may be several, e.g. <|im_end|> and <|endoftext|>). */
    readonly eosTokenIds: readonly number[],
    readonly bosTokenId: number | undefined,
    readonly padTokenId: number | undefined,
    /** Special (added) tokens by text. */
    readonly specialTokens: ReadonlyMap<string, number>,
  ) {}

  /** Loads tokenizer.json (required) and tokenizer_config.json / config.json / generation_config.json (optional). */
  static async load(dir: string): Promise<PolicyTokenizer> {
    const tokenizerJson = await readJsonIfPresent(join(dir, 'tokenizer.json'));
    if (tokenizerJson === undefined) throw new Error(`${dir} has no tokenizer.json`);
    const tokenizerConfig = (await readJsonIfPresent(join(dir, 'tokenizer_config.json'))) ?? {};
    const config = (await readJsonIfPresent(join(dir, 'config.json'))) ?? {};
    const generationConfig = (await readJsonIfPresent(join(dir, 'generation_config.json'))) ?? {};
    // tokenizers.js runs WordLevel models through its "Legacy" model, which takes the unknown token from
    // tokenizer_config.json only; supply the model's own unk_token so unknown words map to it.
    const model = tokenizerJson.model as JsonObject | undefined;
    const effectiveConfig: JsonObject =
      model?.type === 'WordLevel' &&
      tokenizerConfig.unk_token === undefined &&
      typeof model.unk_token === 'string'
        ? { ...tokenizerConfig, unk_token: model.unk_token }
        : tokenizerConfig;
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, effectiveConfig);
    } catch (err) {
      throw new Error(`${join(dir, 'tokenizer.json')} could not be loaded: ${(err as Error).message}`);
    }
    const special = new Map<string, number>();
    for (const [id, token] of tokenizer.get_added_tokens_decoder()) {
      if (token.special) special.set(token.content, id);
    }
    const idOf = (field: string): number | undefined => {
      const text = tokenText(tokenizerConfig[field]);
      return text === undefined ? undefined : tokenizer.token_to_id(text);
    };
    let eos = idList(generationConfig.eos_token_id);
    if (eos.length === 0) eos = idList(config.eos_token_id);
    if (eos.length === 0) eos = idList(idOf('eos_token'));
    const bos =
      idList(generationConfig.bos_token_id)[0] ?? idList(config.bos_token_id)[0] ?? idOf('bos_token');
    const pad =
      idList(generationConfig.pad_token_id)[0] ?? idList(config.pad_token_id)[0] ?? idOf('pad_token');
    return new PolicyTokenizer(tokenizer, [...new Set(eos)], bos, pad, special);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const { ids, tokens } = this.tokenizer.encode(text, {
      add_special_tokens: options.addSpecialTokens ?? false,
    });
    const bad = ids.findIndex((id) => !Number.isInteger(id));
    if (bad >= 0) {
      throw new Error(
        `tokenizer has no id for token ${JSON.stringify(tokens[bad])} (and no unknown token to map it to)`,
      );
    }
    return ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.tokenizer.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** Number of entries in the vocabulary including added tokens (may be < the model's vocab_size). */
  get size(): number {
    return this.tokenizer.get_vocab(true).size;
  }
}
