// The toy tokenizer: fixed vocabulary and ids, digit-by-digit numbers, exact round trips (\boxed{42} comes
// back as written, so the grader reads decoded samples), no unknown pieces in teacher traces, and the same
// ids from tokenizers.js and from Python tokenizers / transformers' PreTrainedTokenizerFast loading a model
// directory laid out like toy/base (transformers 5's AutoTokenizer would not do: for model_type qwen2 it
// always builds its own Qwen2Tokenizer and ignores a WordLevel tokenizer.json; see docs/toy.md).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toyModelConfig } from '../../toy/model-config';
import { generateProblems } from '../../toy/problems';
import { writeTraces } from '../../toy/teacher';
import { buildToyTokenizerJson, toyVocabulary, ToyTokenizer, writeToyTokenizer } from '../../toy/tokenizer';

const tokenizer = new ToyTokenizer();
const python = join(import.meta.dirname, '../../.venv/bin/python');

const problems = generateProblems({ split: 'eval', count: 300, seed: 4 });
const traces = writeTraces(problems, 4);

describe('toy tokenizer', () => {
  test('vocabulary: small, fixed ids for the special tokens and markers', () => {
    const vocab = toyVocabulary();
    assert.equal(vocab.length, tokenizer.vocabSize);
    assert.ok(vocab.length >= 100 && vocab.length <= 300, `vocab ${vocab.length}`);
    assert.deepEqual(vocab.slice(0, 7), ['<|pad|>', '<|eos|>', '<|unk|>', '<think>', '</think>', '\n', ' ']);
    assert.deepEqual([tokenizer.padId, tokenizer.eosId, tokenizer.unkId], [0, 1, 2]);
  });

  test('pieces of a hand-written line: numbers digit by digit, markers whole', () => {
    assert.deepEqual(tokenizer.tokens('12 * 3 = 36, not 35.'), [
      '1',
      '2',
      ' *',
      ' 3',
      ' =',
      ' 3',
      '6',
      ',',
      ' not',
      ' 3',
      '5',
      '.',
    ]);
    assert.deepEqual(tokenizer.tokens('</think>\nThe answer is \\boxed{142}.'), [
      '</think>',
      '\n',
      'The',
      ' answer',
      ' is',
      ' \\boxed{',
      '1',
      '4',
      '2',
      '}',
      '.',
    ]);
    assert.deepEqual(tokenizer.tokens('<think>\nWait, let'), ['<think>', '\n', 'Wait', ',', ' let']);
  });

  test('decode(encode(x)) === x for problems and traces; EOS dropped unless kept', () => {
    const text = '<think>\n7 + 5 = 12.\n</think>\nThe answer is \\boxed{42}.';
    const ids = tokenizer.encode(text);
    assert.equal(tokenizer.decode(ids), text);
    assert.equal(tokenizer.decode([...ids, tokenizer.eosId]), text);
    assert.equal(tokenizer.decode([...ids, tokenizer.eosId], true), `${text}<|eos|>`);
    for (let i = 0; i < problems.length; i++) {
      for (const s of [problems[i]!.problem, traces[i]!.text]) {
        const encoded = tokenizer.encode(s);
        assert.ok(!encoded.includes(tokenizer.unkId), `unknown piece in ${s}`);
        assert.equal(tokenizer.decode(encoded), s);
      }
    }
  });

  test('text outside the vocabulary becomes <|unk|> (and decodes to nothing)', () => {
    assert.deepEqual(tokenizer.tokens('7 apples'), ['7', '<|unk|>']);
    assert.equal(tokenizer.decode(tokenizer.encode('7 apples')), '7');
  });

  test(
    'Python tokenizers and PreTrainedTokenizerFast give the same ids and texts',
    { skip: !existsSync(python) && 'no .venv' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'toy-tok-'));
      try {
        writeToyTokenizer(dir);
        writeFileSync(join(dir, 'config.json'), JSON.stringify(toyModelConfig()));
        assert.deepEqual(
          JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
          buildToyTokenizerJson(),
        );
        const strings = [
          ...problems.slice(0, 40).map((p) => p.problem),
          ...traces.slice(0, 40).map((t) => t.text),
          'The answer is \\boxed{42}.',
          '7 apples  and  \t tabs',
        ];
        const script = [
          'import json, sys',
          'from tokenizers import Tokenizer',
          'from transformers import PreTrainedTokenizerFast',
          'd, strings = sys.argv[1], json.load(sys.stdin)',
          'raw = Tokenizer.from_file(d + "/tokenizer.json")',
          'auto = PreTrainedTokenizerFast.from_pretrained(d)',
          'out = []',
          'for s in strings:',
          '    ids = raw.encode(s, add_special_tokens=False).ids',
          '    out.append({"raw": ids, "auto": auto.encode(s, add_special_tokens=False),',
          '                "decoded": auto.decode(ids + [auto.eos_token_id], skip_special_tokens=True)})',
          'print(json.dumps({"eos": auto.eos_token_id, "pad": auto.pad_token_id, "out": out}))',
        ].join('\n');
        const run = spawnSync(python, ['-c', script, dir], {
          input: JSON.stringify(strings),
          encoding: 'utf8',
        });
        assert.equal(run.status, 0, run.stderr);
        const result = JSON.parse(run.stdout) as {
          eos: number;
          pad: number;
          out: { raw: number[]; auto: number[]; decoded: string }[];
        };
        assert.deepEqual([result.eos, result.pad], [tokenizer.eosId, tokenizer.padId]);
        strings.forEach((s, i) => {
          const js = tokenizer.encode(s);
          assert.deepEqual(result.out[i]!.raw, js, `ids of ${JSON.stringify(s)}`);
          assert.deepEqual(result.out[i]!.auto, js);
          assert.equal(result.out[i]!.decoded, tokenizer.decode(js));
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
