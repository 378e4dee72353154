// SFT plumbing of the toy warm start: the prompt is masked and the response + EOS trained, the learning-rate
// schedule matches its formula at hand-computed points, and batches cover each epoch exactly once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeProblem } from '../../toy/problems';
import { batchOrder, sftExample, sftLearningRate, toyPromptIds } from '../../toy/sft';
import { conciseTrace } from '../../toy/teacher';
import { ToyTokenizer } from '../../toy/tokenizer';

const tokenizer = new ToyTokenizer();

describe('toy sft', () => {
  test('an example masks the prompt and trains the response and the EOS', () => {
    const p = makeProblem(7, [
      { op: 'add', operand: 5 },
      { op: 'mul', operand: 3 },
      { op: 'sub', operand: 4 },
    ]);
    const trace = conciseTrace(p).text;
    const e = sftExample(tokenizer, p.problem, trace);
    const prompt = toyPromptIds(tokenizer, p.problem);
    // Start| with| 7|.| Add| 5|.| Multiply| by| 3|.| Subtract| 4|.| What| is| the| result|? = 19 pieces.
    assert.equal(prompt.length, 19);
    assert.equal(e.ids.length, e.mask.length);
    assert.deepEqual(e.ids.slice(0, prompt.length), prompt);
    assert.ok(e.mask.slice(0, prompt.length).every((m) => m === 0));
    assert.ok(e.mask.slice(prompt.length).every((m) => m === 1));
    assert.equal(e.ids[e.ids.length - 1], tokenizer.eosId);
    assert.equal(tokenizer.decode(e.ids.slice(prompt.length)), trace);
    assert.equal(tokenizer.decode(e.ids.slice(prompt.length, prompt.length + 1)), '<think>');
  });

  test('learning rate: linear warm-up, then cosine down to the final fraction', () => {
    const o = { steps: 105, lr: 1e-3, warmupFraction: 0.05, finalLrFraction: 0.1 };
    // Warm-up W = round(105 · 0.05) = 5 steps: lr · (s + 1)/5.
    assert.equal(sftLearningRate(0, o), 2e-4);
    assert.equal(sftLearningRate(4, o), 1e-3);
    // After warm-up: lr · (0.1 + 0.9 · ½(1 + cos(π (s − 5)/100))).
    assert.equal(sftLearningRate(5, o), 1e-3);
    assert.ok(Math.abs(sftLearningRate(55, o) - 1e-3 * (0.1 + 0.45)) < 1e-15); // cos(π/2) = 0
    assert.ok(Math.abs(sftLearningRate(105, o) - 1e-4) < 1e-15);
    assert.ok(Math.abs(sftLearningRate(30, o) - 1e-3 * (0.1 + 0.45 * (1 + Math.cos(Math.PI / 4)))) < 1e-15);
  });

  test('batch order: seeded, every example once per epoch', () => {
    const batches = batchOrder(10, 4, 5, 3);
    assert.deepEqual(batchOrder(10, 4, 5, 3), batches);
    assert.notDeepEqual(batchOrder(10, 4, 5, 4), batches);
    assert.ok(batches.every((b) => b.length === 4));
    const flat = batches.flat();
    // 20 draws = two full epochs of 10.
    assert.deepEqual(
      flat.slice(0, 10).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(
      flat.slice(10, 20).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });
});
