// Prompt templates: the exact strings of the three formats (special tokens character by character),
// the recorded template text, stop strings and name validation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TEMPLATE_NAMES,
  parseTemplateName,
  renderPrompt,
  stopStrings,
  templateText,
} from '../../eval/templates';

const problem = 'What is $1+1$?';

describe('prompt templates', () => {
  test('r1: the DeepSeek-R1-Distill chat format with the boxed-answer instruction and an open <think>', () => {
    assert.equal(
      renderPrompt('r1', problem),
      '<｜begin▁of▁sentence｜><｜User｜>What is $1+1$?\nPlease reason step by step, and put your final answer ' +
        'within \\boxed{}.<｜Assistant｜><think>\n',
    );
    // The special tokens use U+FF5C (full-width vertical bar) and U+2581 (lower one eighth block).
    const bos = renderPrompt('r1', '').slice(0, 21);
    assert.equal(bos, '<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>');
  });

  test('qwen: ChatML with the instruction as the system prompt', () => {
    assert.equal(
      renderPrompt('qwen', problem),
      '<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n' +
        '<|im_start|>user\nWhat is $1+1$?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('plain: the problem, a line break, the instruction and a line break', () => {
    assert.equal(
      renderPrompt('plain', problem),
      'What is $1+1$?\nPlease reason step by step, and put your final answer within \\boxed{}.\n',
    );
  });

  test('the problem is inserted verbatim, including braces and a literal "{problem}"', () => {
    const tricky = '  Solve {x}: x = {problem} $\\frac{1}{2}$\n';
    for (const name of TEMPLATE_NAMES) {
      const prompt = renderPrompt(name, tricky);
      assert.ok(prompt.includes(tricky), name);
      assert.equal(prompt.length, templateText(name).length - '{problem}'.length + tricky.length, name);
    }
  });

  test('templateText is the template with a {problem} placeholder', () => {
    assert.equal(
      templateText('plain'),
      '{problem}\nPlease reason step by step, and put your final answer within \\boxed{}.\n',
    );
    assert.equal(templateText('r1').split('{problem}').length, 2);
  });

  test('stop strings end each chat format; plain has none', () => {
    assert.deepEqual(stopStrings('r1'), ['<｜end▁of▁sentence｜>']);
    assert.deepEqual(stopStrings('qwen'), ['<|im_end|>', '<|endoftext|>']);
    assert.deepEqual(stopStrings('plain'), []);
  });

  test('raw is the problem text exactly, with no stop strings', () => {
    assert.equal(
      renderPrompt('raw', 'Start with 7. Add 5. What is the result?'),
      'Start with 7. Add 5. What is the result?',
    );
    assert.deepEqual(stopStrings('raw'), []);
  });

  test('template names are validated with the valid ones named', () => {
    assert.equal(parseTemplateName('qwen'), 'qwen');
    assert.throws(
      () => parseTemplateName('llama'),
      /unknown prompt template "llama" \(expected one of: r1, qwen, plain, raw\)/,
    );
  });
});
