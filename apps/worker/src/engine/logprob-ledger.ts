import type { Logprob } from "@caravan/protocol";

/** A sampled token's entry, waiting for its text to be released. */
interface Held {
  entry: Logprob;
  /** the bytes the token adds to the text: none for a control token */
  bytes: Buffer;
  /** how many of `bytes` a release has already accounted for */
  used: number;
}

const NONE = Buffer.alloc(0);

/**
 * Holds each sampled token's logprob entry until its text is released (to the content or the
 * thought text), then gives it out with exactly that text, so that the `token`s of the entries
 * given with a piece of text join to it and their `bytes` are its bytes.
 *
 * node-llama-cpp releases text later than it samples it (while it may still be the start of a
 * stop sequence or of a segment's marker) and some never: a stop sequence, EOS and other control
 * tokens, a tool call's syntax, a thought's markers, whitespace that `format` trims from the end.
 * Entries whose text is never released are dropped. Which entries a piece of text came from is
 * found by its bytes: the first place it occurs in the held tokens' bytes; the held tokens before
 * that place are the ones skipped (a marker, a SentencePiece space the first chunk drops).
 *
 * A token whose text is only partly released is given with that part, as `token` and `bytes`:
 * the token a stop sequence starts in keeps the text before the stop; a token split between two
 * releases (its text runs from one piece into the next) is given twice, each time with its part.
 * A character made of several tokens' bytes (byte-fallback pieces) goes whole into the `token` of
 * the one that completes it, the others have `token` "" and their own `bytes`.
 */
export class LogprobLedger {
  private held: Held[] = [];

  /** `hasText` false for a control token: its text ("</s>") never reaches the answer. */
  sampled(entry: Logprob, hasText: boolean): void {
    const bytes = hasText ? Buffer.from(entry.bytes ?? Buffer.from(entry.token, "utf8")) : NONE;
    this.held.push({ entry, bytes, used: 0 });
  }

  /** The entries of the tokens that produced `text`, the next piece released; call right before it goes out. */
  release(text: string): Logprob[] {
    if (text === "" || this.held.length === 0) return [];
    const released = Buffer.from(text, "utf8");
    const pending = Buffer.concat(this.held.map((held) => held.bytes.subarray(held.used)));
    const at = pending.indexOf(released);
    const parts = at >= 0 ? this.take(at, released.length) : this.takeInOrder(released.length);
    return parts.map(({ entry, from, to }) => ({ ...entry, token: released.toString("utf8", charStart(released, from), charStart(released, to)), bytes: [...released.subarray(from, to)] }));
  }

  /**
   * Accounts for the pending bytes [at, at + length): the held tokens that end before `at` are
   * dropped, those that overlap get their part (in the released text's byte offsets), and a token
   * that runs past the end stays held with the rest of its bytes.
   */
  private take(at: number, length: number): Part[] {
    const end = at + length;
    const parts: Part[] = [];
    let position = 0;
    let done = 0;
    for (const held of this.held) {
      const size = held.bytes.length - held.used;
      if (position >= end && size > 0) break;
      const from = Math.max(position, at);
      const to = Math.min(position + size, end);
      if (from < to) parts.push({ entry: held.entry, from: from - at, to: to - at });
      if (position + size > end) {
        held.used += end - position;
        break;
      }
      position += size;
      done++;
    }
    this.held.splice(0, done);
    return parts;
  }

  /**
   * Text that is not in the held bytes (a detokenization that differs from the tokens' own
   * pieces, invalid UTF-8 shown as U+FFFD): it goes to the held tokens in order, as many bytes to
   * each as it has, the last one taking whatever is left, so the entries still join to it.
   */
  private takeInOrder(length: number): Part[] {
    const parts: Part[] = [];
    let position = 0;
    let done = 0;
    for (const held of this.held) {
      if (position >= length) break;
      const size = held.bytes.length - held.used;
      done++;
      if (size === 0) continue;
      const to = Math.min(position + size, length);
      parts.push({ entry: held.entry, from: position, to });
      if (position + size > length) {
        held.used += length - position;
        done--;
      }
      position = to;
    }
    this.held.splice(0, done);
    if (position < length && parts.length > 0) parts.at(-1)!.to = length;
    return parts;
  }
}

interface Part {
  entry: Logprob;
  /** byte offsets in the released text */
  from: number;
  to: number;
}

/** The start of the UTF-8 character that byte `offset` of `bytes` belongs to (`offset` itself at a boundary). */
function charStart(bytes: Buffer, offset: number): number {
  while (offset > 0 && offset < bytes.length && (bytes[offset]! & 0xc0) === 0x80) offset--;
  return offset;
}
