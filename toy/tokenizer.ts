// The toy world's tokenizer: a Hugging Face `tokenizer.json` (WordLevel model) over the closed vocabulary
// of toy/problems.ts and toy/teacher.ts, loadable by @huggingface/tokenizers (JS, what the engine uses) and
// by Python `tokenizers` / transformers' PreTrainedTokenizerFast.
// Pieces: a word, a single digit (numbers go digit by digit), a punctuation mark, `<think>`, `</think>`,
// `\boxed{`, each optionally carrying the one space before it (" Add", " 1", "2"); a newline on its own.
// Decoding fuses the pieces back with nothing in between, so decode(encode(text)) === text for any text
// made of the vocabulary (e.g. "The answer is \boxed{42}.").
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export const PAD_TOKEN = '<|pad|>';
export const EOS_TOKEN = '<|eos|>';
export const UNK_TOKEN = '<|unk|>';
export const SPECIAL_TOKENS = [PAD_TOKEN, EOS_TOKEN, UNK_TOKEN] as const;

/** Every word the problems and the teacher write (sorted, so the vocabulary order is fixed). */
export const TOY_WORDS: readonly string[] = [
  'Add',
  'Alternatively',
  'Correct',
  'Divide',
  'Hold',
  'I',
  'Let',
  'Multiply',
  'So',
  'Start',
  'Subtract',
  'The',
  'Wait',
  'What',
  'Yes',
  'a',
  'again',
  'answer',
  'before',
  'by',
  'check',
  'everything',
  'go',
  'is',
  'it',
  'let',
  'made',
  'me',
  'mistake',
  'more',
  'not',
  'on',
  'once',
  'over',
  'recompute',
  'result',
  'right',
  'so',
  'that',
  'the',
  'verify',
  'with',
];

export const TOY_DIGITS: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const TOY_PUNCTUATION: readonly string[] = ['.', ',', ':', '?', '+', '-', '*', '/', '=', '}'];
/** Markers kept whole by the pre-tokenizer. */
export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';
export const BOXED_OPEN = '\\boxed{';

/**
 * The pre-tokenizer's regex (Oniguruma in Rust, translated by tokenizers.js; kept to syntax both read the
 * same way). Alternatives are tried left to right; `\s` last catches stray whitespace one char at a time.
 */
export const PIECE_PATTERN = '<think>|</think>| ?\\\\boxed\\{| ?[A-Za-z]+| ?[0-9]| ?[^A-Za-z0-9\\s]|\\n|\\s';

/** The vocabulary in id order: special tokens, markers, newline and space, then each piece without and with a leading space. */
export function toyVocabulary(extraWords: readonly string[] = []): string[] {
  // Extra words (another toy world's, e.g. toy/search.ts) go last, so the base vocabulary keeps its ids.
  const pieces = [...TOY_WORDS, ...TOY_DIGITS, ...TOY_PUNCTUATION, BOXED_OPEN, ...extraWords];
  const vocab = [...SPECIAL_TOKENS, THINK_OPEN, THINK_CLOSE, '\n', ' '];
  for (const piece of pieces) vocab.push(piece, ` ${piece}`);
  if (new Set(vocab).size !== vocab.length) throw new Error('toy vocabulary has duplicates');
  return vocab;
}

export type TokenizerJson = Record<string, unknown>;

/** tokenizer.json in the Hugging Face tokenizers format. */
export function buildToyTokenizerJson(extraWords: readonly string[] = []): TokenizerJson {
  const vocab = toyVocabulary(extraWords);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: vocab.indexOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: PIECE_PATTERN }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'WordLevel',
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      unk_token: UNK_TOKEN,
    },
  };
}

/** tokenizer_config.json: what transformers (and tokenizers.js) read beside tokenizer.json. */
export function buildToyTokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    eos_token: EOS_TOKEN,
    pad_token: PAD_TOKEN,
    unk_token: UNK_TOKEN,
    bos_token: null,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 1024,
  };
}

/** Writes tokenizer.json and tokenizer_config.json into `dir`. */
export function writeToyTokenizer(dir: string, extraWords: readonly string[] = []): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify(buildToyTokenizerJson(extraWords), null, 2) + '\n',
  );
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify(buildToyTokenizerConfig(), null, 2) + '\n',
  );
}

/** Encode/decode through tokenizers.js, as the engine does. */
export class ToyTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly vocab: readonly string[];
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;

  constructor(tokenizerJson: TokenizerJson = buildToyTokenizerJson(), config = buildToyTokenizerConfig()) {
    this.tokenizer = new Tokenizer(tokenizerJson, config);
    const model = tokenizerJson.model as { vocab: Record<string, number> };
    const vocab: string[] = [];
    for (const [token, id] of Object.entries(model.vocab)) vocab[id] = token;
    this.vocab = vocab;
    this.eosId = model.vocab[EOS_TOKEN] as number;
    this.padId = model.vocab[PAD_TOKEN] as number;
    this.unkId = model.vocab[UNK_TOKEN] as number;
  }

  /** Reads `dir`/tokenizer.json and `dir`/tokenizer_config.json. */
  static load(dir: string): ToyTokenizer {
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJson;
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    return new ToyTokenizer(json, config);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Token ids of `text` (no special tokens added). */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids`; special tokens (EOS, padding) are dropped unless `keepSpecial`. */
  decode(ids: readonly number[], keepSpecial = false): string {
    return this.tokenizer.decode([...ids], {
      skip_special_tokens: !keepSpecial,
      clean_up_tokenization_spaces: false,
    });
  }

  /** The pieces `text` splits into (token strings). */
  tokens(text: string): string[] {
    return this.encode(text).map((id) => this.vocab[id] ?? UNK_TOKEN);
  }
}
