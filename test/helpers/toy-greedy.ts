// Greedy responses of a committed toy base to toy problems, generated twice: the base tests check the first
// set's format and accuracy and that the second set is token-for-token the same (greedy is deterministic).
import { Policy } from '../../native/index';
import { toyPromptIds } from '../../toy/sft';
import { ToyTokenizer } from '../../toy/tokenizer';

export interface GreedyRun {
  texts: string[];
  finishReasons: string[];
  tokenIds: number[][];
  repeatTokenIds: number[][];
}

export async function greedyTwice(
  baseDir: string,
  problems: readonly string[],
  maxNewTokens: number,
): Promise<GreedyRun> {
  const tokenizer = ToyTokenizer.load(baseDir);
  const policy = await Policy.load(baseDir, { threads: 1, optimizer: false });
  try {
    const prompts = problems.map((p) => toyPromptIds(tokenizer, p));
    const options = { samplesPerPrompt: 1, maxNewTokens, temperature: 0, stopTokenIds: [tokenizer.eosId] };
    const out = await policy.generate(prompts, options);
    const again = await policy.generate(prompts, options);
    return {
      texts: out.map((r) => tokenizer.decode(r.tokenIds)),
      finishReasons: out.map((r) => r.finishReason),
      tokenIds: out.map((r) => r.tokenIds),
      repeatTokenIds: again.map((r) => r.tokenIds),
    };
  } finally {
    policy.dispose();
  }
}
