// The tokenizer wrapper against the reference implementation: tokenizer.json files made by the Python
// `tokenizers` library (a Qwen2-style byte-level BPE trained on a small corpus, and a WordLevel vocabulary)
// must encode and decode the same way through @huggingface/tokenizers; EOS ids come from
// generation_config.json, then config.json, then tokenizer_config.json.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PolicyTokenizer } from '../../native';
import { runPython, tempDir } from './helpers';

const SAMPLES = [
  'What is 12 + 30? Answer: 42.',
  'Let x = 3.5, then 2x^2 - 7 = 17.5',
  '<|im_start|>user\nSolve for y: y/4 = 9<|im_end|>\n<|im_start|>assistant\n',
  '  leading spaces and trailing  ',
  'Ünïcödé ∑ π ≈ 3.14159 — done',
  'newline\n\nparagraph\tand tab',
];

const BUILD = `
import json, sys
from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders, Regex
out = sys.argv[1]
corpus = ["What is the answer? The answer is 42.", "Let x = 3, then 2x + 1 = 7.", "Solve for y: y / 4 = 9, so y = 36.",
          "The quick brown fox jumps over the lazy dog.", "π is about 3.14159; ∑ of the first n integers is n(n+1)/2."] * 20
# Qwen2's pre-tokenizer: a regex split then byte-level (no prefix space), byte-level decoder.
qwen_regex = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"""
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.Sequence([
    pre_tokenizers.Split(Regex(qwen_regex), behavior="isolated", invert=False),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
])
bpe.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
bpe.train_from_iterator(corpus, trainer)
bpe.save(out + "/bpe/tokenizer.json")
words = ["<pad>", "<eos>", "<unk>"] + [str(d) for d in range(10)] + ["+", "-", "=", "?", "What", "is", "answer", "the"]
wl = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
wl.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
wl.add_special_tokens(["<pad>", "<eos>"])
wl.save(out + "/wordlevel/tokenizer.json")
samples = json.loads(sys.argv[2])
result = {}
for name, tok in (("bpe", bpe), ("wordlevel", wl)):
    enc = [tok.encode(s, add_special_tokens=False).ids for s in samples]
    result[name] = {"ids": enc, "decoded": [tok.decode(ids, skip_special_tokens=False) for ids in enc],
                    "decodedSkip": [tok.decode(ids, skip_special_tokens=True) for ids in enc],
                    "vocabSize": tok.get_vocab_size(with_added_tokens=True)}
print(json.dumps(result))
`;

interface Reference {
  ids: number[][];
  decoded: string[];
  decodedSkip: string[];
  vocabSize: number;
}

describe('PolicyTokenizer', () => {
  let dir: string;
  let reference: Record<'bpe' | 'wordlevel', Reference>;
  before(async () => {
    dir = tempDir('tokenizer');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'bpe'));
    await mkdir(join(dir, 'wordlevel'));
    reference = JSON.parse(await runPython(BUILD, [dir, JSON.stringify(SAMPLES)])) as typeof reference;
  });

  test('byte-level BPE (Qwen2 style) encodes and decodes like the Python tokenizers library', async () => {
    const tok = await PolicyTokenizer.load(join(dir, 'bpe'));
    SAMPLES.forEach((text, i) => {
      const ids = tok.encode(text);
      assert.deepEqual(ids, reference.bpe.ids[i], `encode ${JSON.stringify(text)}`);
      assert.equal(tok.decode(ids), reference.bpe.decoded[i]);
      assert.equal(tok.decode(ids), text, 'byte-level BPE round-trips exactly');
      assert.equal(tok.decode(ids, { skipSpecialTokens: true }), reference.bpe.decodedSkip[i]);
    });
    assert.equal(tok.tokenToId('<|im_end|>'), 2);
    assert.equal(tok.specialTokens.get('<|endoftext|>'), 0);
    assert.equal(tok.size, reference.bpe.vocabSize);
  });

  test('WordLevel encodes like the Python tokenizers library', async () => {
    const tok = await PolicyTokenizer.load(join(dir, 'wordlevel'));
    SAMPLES.forEach((text, i) =>
      assert.deepEqual(tok.encode(text), reference.wordlevel.ids[i], `encode ${JSON.stringify(text)}`),
    );
    assert.deepEqual(tok.encode('What is 4 + 2 ?'), [17, 18, 7, 13, 5, 16]); // vocab order: 3 specials, digits 3..12, + - = ?, What, is
    assert.equal(tok.idToToken(18), 'is');
  });

  test('EOS ids: generation_config.json, else config.json, else tokenizer_config.json', async () => {
    const bpe = join(dir, 'bpe');
    assert.deepEqual((await PolicyTokenizer.load(bpe)).eosTokenIds, []);
    await writeFile(
      join(bpe, 'tokenizer_config.json'),
      JSON.stringify({ eos_token: { content: '<|endoftext|>' } }),
    );
    assert.deepEqual((await PolicyTokenizer.load(bpe)).eosTokenIds, [0]);
    await writeFile(join(bpe, 'config.json'), JSON.stringify({ eos_token_id: 1 }));
    assert.deepEqual((await PolicyTokenizer.load(bpe)).eosTokenIds, [1]);
    await writeFile(
      join(bpe, 'generation_config.json'),
      JSON.stringify({ eos_token_id: [2, 0], bos_token_id: 1 }),
    );
    const tok = await PolicyTokenizer.load(bpe);
    assert.deepEqual(tok.eosTokenIds, [2, 0]);
    assert.equal(tok.bosTokenId, 1);
    await assert.rejects(PolicyTokenizer.load(join(dir, 'nowhere')), /has no tokenizer\.json/);
  });
});
