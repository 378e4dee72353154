// The tokenizer of a run's model directory, loaded once per worker (native/tokenizer.ts does the work),
// with what rollouts need: encode a prompt, decode a response for grading, and the stop token ids.
import { PolicyTokenizer } from '../native/tokenizer';

export interface RunTokenizer {
  encode(text: string): number[];
  /** Response text for grading (special tokens such as EOS dropped). */
  decode(ids: readonly number[]): string;
  /** Generation stops at any of these (EOS ids from generation_config / config / tokenizer_config). */
  stopTokenIds: number[];
}

const cache = new Map<string, Promise<RunTokenizer>>();

export function tokenizerFor(dir: string): Promise<RunTokenizer> {
  let loaded = cache.get(dir);
  if (!loaded) {
    loaded = PolicyTokenizer.load(dir).then((t) => ({
      encode: (text: string) => t.encode(text),
      decode: (ids: readonly number[]) => t.decode(ids, { skipSpecialTokens: true }),
      stopTokenIds: [...t.eosTokenIds],
    }));
    loaded.catch(() => cache.delete(dir));
    cache.set(dir, loaded);
  }
  return loaded;
}
