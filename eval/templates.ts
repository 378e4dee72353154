// Prompt templates for evaluation and rollouts. Pure string functions (no Node APIs), so workflows may
// import them. The template's name and exact text are recorded with every evaluation's results.
//
// `{problem}` below stands for the problem text, inserted verbatim (not trimmed, not escaped).
//
// r1 — the DeepSeek-R1-Distill chat format (the paper's models are DeepSeek-R1-Distill-Qwen-1.5B/7B):
//   <｜begin▁of▁sentence｜><｜User｜>{problem}\nPlease reason step by step, and put your final answer
//   within \boxed{}.<｜Assistant｜><think>\n
//   (one string, no line break after "answer"; the special tokens use the full-width bar U+FF5C and the
//   lower-one-eighth block U+2581.) The prompt already starts with the BOS token, so the tokenizer must
//   not add another. The trailing "<think>\n" opens the reasoning block, as the distilled models' own
//   chat template does.
//
// qwen — the Qwen2.5 ChatML format with the step-by-step instruction as the system prompt (the format of
//   the Qwen2.5-Math CoT evaluations):
//   <|im_start|>system\nPlease reason step by step, and put your final answer within
//   \boxed{}.<|im_end|>\n<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n
//
// raw — the problem text exactly, nothing added: for models trained on bare problems (the toy world's
//   policy); {problem}
//
// plain — no chat markup, for base models:
//   {problem}\nPlease reason step by step, and put your final answer within \boxed{}.\n

export type TemplateName = 'r1' | 'qwen' | 'plain' | 'raw';

export const TEMPLATE_NAMES: readonly TemplateName[] = ['r1', 'qwen', 'plain', 'raw'];

/** The instruction every template carries. */
export const STEP_BY_STEP_INSTRUCTION =
  'Please reason step by step, and put your final answer within \\boxed{}.';

/** The placeholder that stands for the problem text in templateText(). */
export const PROBLEM_PLACEHOLDER = '{problem}';

const TEMPLATES: Record<TemplateName, { before: string; after: string; stop: readonly string[] }> = {
  r1: {
    before: '<｜begin▁of▁sentence｜><｜User｜>',
    after: `\n${STEP_BY_STEP_INSTRUCTION}<｜Assistant｜><think>\n`,
    stop: ['<｜end▁of▁sentence｜>'],
  },
  qwen: {
    before: `<|im_start|>system\n${STEP_BY_STEP_INSTRUCTION}<|im_end|>\n<|im_start|>user\n`,
    after: '<|im_end|>\n<|im_start|>assistant\n',
    stop: ['<|im_end|>', '<|endoftext|>'],
  },
  raw: { before: '', after: '', stop: [] },
  plain: {
    before: '',
    after: `\n${STEP_BY_STEP_INSTRUCTION}\n`,
    stop: [],
  },
};

export function isTemplateName(name: string): name is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(name);
}

/** Validates a template name, naming the valid ones when it is not one. */
export function parseTemplateName(name: string): TemplateName {
  if (!isTemplateName(name)) {
    throw new RangeError(`unknown prompt template "${name}" (expected one of: ${TEMPLATE_NAMES.join(', ')})`);
  }
  return name;
}

/** The prompt for one problem. */
export function renderPrompt(template: TemplateName, problem: string): string {
  const t = TEMPLATES[template];
  return t.before + problem + t.after;
}

/** The template with `{problem}` in place of the problem: the exact text recorded with results. */
export function templateText(template: TemplateName): string {
  return renderPrompt(template, PROBLEM_PLACEHOLDER);
}

/** Strings that end a response in this format (the model's end-of-turn markers); none for plain. */
export function stopStrings(template: TemplateName): readonly string[] {
  return TEMPLATES[template].stop;
}
