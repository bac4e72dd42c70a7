/**
 * The JSON objects of an NDJSON body, one per line, as they arrive. A line that is not JSON is
 * an error (a proxy's HTML page, say), not something to skip.
 */
export async function* ndjson<T>(body: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let pending = "";
  const parse = (line: string): T => {
    try {
      return JSON.parse(line) as T;
    } catch {
      throw new Error(`the server sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
  };
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) if (line.trim() !== "") yield parse(line);
  }
  pending += decoder.decode();
  if (pending.trim() !== "") yield parse(pending);
}
