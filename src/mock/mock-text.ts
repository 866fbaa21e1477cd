import type { Random } from './mock-random.js';

/**
 * Readable, deterministic filler text, built as a list of pieces that are each one o200k token
 * (a vocabulary word with its leading space, or a punctuation mark). The piece list is the
 * stream's chunking, and a prefix of it is what a `max_tokens` cut leaves.
 */

/** Every word is a single o200k token both as ` word` and ` Word` (a test keeps it so). */
export const VOCABULARY: readonly string[] = (
  'the a this that system model request response gateway token stream cache policy budget error retry provider ' +
  'server client user value result answer question data time part way example case point number list field ' +
  'message reply test note idea plan step state change order level rate limit window route key tenant cost ' +
  'price usage report record event chunk text word line page file path name type kind form shape size length ' +
  'speed load work team owner service network socket signal timer clock queue buffer pool worker task job ' +
  'call check rule guard filter layer stage phase option setting default config schema version update release ' +
  'build deploy run start stop open close read write send receive accept keep hold wait move turn make take ' +
  'give find show tell ask use try need want know think see look become bring begin help learn follow create ' +
  'offer consider serve expect stay reach suggest pass require return explain develop and or but so also then ' +
  'now here there very quite rather more most less only just still even again often always soon later early ' +
  'clearly simply fully nearly good new first last long great little own other right big high different small ' +
  'large next important few same able best better sure free true whole real full clear simple fast safe stable ' +
  'ready quiet bright certain common final local main major minor normal recent single special strong total ' +
  'useful valid with from into over under about after before between through during without within across ' +
  'along around near'
).split(' ');

export interface TextPlan {
  /** The pieces in order; their concatenation is the content. */
  readonly pieces: string[];
  /** Token count of each piece. */
  readonly tokens: number[];
}

/** Longest echo of the user's words, and the longest echoed word. */
const ECHO_WORDS = 5;
const ECHO_WORD_CHARS = 20;
const HEADER = ['Mock', ' reply', ' to', ':'];

/**
 * Plans a reply of exactly `total` tokens (when pieces add up, which they do for the
 * vocabulary): `Mock reply to: <first words of the prompt>.` then sentences, ending with `.`.
 *
 * @example planText(rng, 'What is a gateway?', 12, countTokens).pieces.join('')
 *   // → 'Mock reply to: What is a gateway. Stable signal.' (the words depend on the seed)
 */
export function planText(rng: Random, prompt: string, total: number, count: (text: string) => number): TextPlan {
  const pieces: string[] = [];
  const tokens: number[] = [];
  let used = 0;
  const push = (piece: string, n = 1): void => {
    pieces.push(piece);
    tokens.push(n);
    used += n;
  };

  const echo = echoPieces(prompt, count);
  // The echo needs the header, one closing period, and room for a final sentence of 2 tokens.
  while (echo.length > 0 && HEADER.length + sum(echo.map((e) => e.tokens)) + 3 > total) echo.pop();
  if (echo.length > 0) {
    for (const piece of HEADER) push(piece);
    for (const e of echo) push(e.piece, e.tokens);
    push('.');
  }

  let inSentence = 0;
  let sentenceLength = rng.int(6, 14);
  while (used < total) {
    const remaining = total - used;
    if (remaining === 1 && pieces.length > 0) {
      push('.');
    } else if (remaining > 2 && inSentence >= sentenceLength) {
      push('.');
      inSentence = 0;
      sentenceLength = rng.int(6, 14);
    } else {
      const word = rng.pick(VOCABULARY);
      const text = inSentence === 0 ? capitalize(word) : word;
      push(pieces.length === 0 ? text : ` ${text}`);
      inSentence++;
      if (remaining > 3 && inSentence < sentenceLength && rng.next() < 0.1) push(',');
    }
  }
  return { pieces, tokens };
}

/** The longest prefix of the plan that fits in `limit` tokens. */
export function truncatePlan(plan: TextPlan, limit: number): TextPlan {
  let used = 0;
  let end = 0;
  while (end < plan.pieces.length && used + (plan.tokens[end] ?? 0) <= limit) used += plan.tokens[end++] ?? 0;
  return { pieces: plan.pieces.slice(0, end), tokens: plan.tokens.slice(0, end) };
}

function echoPieces(prompt: string, count: (text: string) => number): { piece: string; tokens: number }[] {
  const words = prompt.match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  return words.slice(0, ECHO_WORDS).map((word) => {
    const piece = ` ${[...word].slice(0, ECHO_WORD_CHARS).join('')}`;
    return { piece, tokens: count(piece) };
  });
}

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
