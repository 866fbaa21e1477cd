/**
 * Cuts text into pieces the BPE tokenizer can count in bounded time.
 *
 * BPE cost is superlinear in the length of one pre-tokenized piece, and a piece is a run without
 * whitespace (20k letters in a row: ~0.25 s). So: segments end just before a space or tab that
 * follows a non-whitespace character (where the o200k/cl100k pre-tokenizers split anyway, so the
 * count is unchanged), once they are at least `SEGMENT` characters long; and a run of more than
 * `MAX_RUN` characters without whitespace is cut every `MAX_RUN` characters (never inside a
 * surrogate pair), preferably between a letter or digit and punctuation, where the pre-tokenizer
 * splits as well. Only the other cuts can change the count: by about one token each, and only in
 * text that has such runs (base64, long hex, long CJK passages without spaces).
 */
export const SEGMENT = 1_024;
export const MAX_RUN = 128;

const isSpace = (code: number): boolean =>
  code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x3000 || (code >= 0x2000 && code <= 0x200a);
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;
const isAsciiAlnum = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
/** ASCII punctuation except the apostrophe (which may belong to a contraction like `it's`). */
const isAsciiPunct = (code: number): boolean => code > 32 && code < 127 && code !== 39 && !isAsciiAlnum(code);

/**
 * Where to cut a long run: between an ASCII letter or digit and a following punctuation
 * character (the pre-tokenizer splits there too, so the count is unchanged), searching back
 * from `at` to `min`; otherwise at `at`, moved off a surrogate pair's second half.
 */
function softCut(text: string, min: number, at: number): number {
  for (let i = at; i > min; i--) {
    if (isAsciiPunct(text.charCodeAt(i)) && isAsciiAlnum(text.charCodeAt(i - 1))) return i;
  }
  return isLowSurrogate(text.charCodeAt(at)) ? at + 1 : at;
}

/**
 * Yields `[start, end)` offsets of consecutive segments covering `text`.
 *
 * @example [...segments('a b')] // → [[0, 3]]
 */
export function* segments(text: string, size: number = SEGMENT): Generator<[number, number]> {
  let start = 0;
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isSpace(code)) {
      // Not before a line break: a punctuation piece takes the newlines after it (`|\n`).
      if (i - start >= size && (code === 32 || code === 9) && !isSpace(text.charCodeAt(i - 1))) {
        yield [start, i];
        start = i;
      }
      runStart = i + 1;
    } else if (i - runStart >= MAX_RUN) {
      const cut = softCut(text, runStart + MAX_RUN / 2, i);
      yield [start, cut];
      start = cut;
      runStart = cut;
    }
  }
  if (start < text.length) yield [start, text.length];
}
