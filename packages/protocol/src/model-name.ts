/**
 * Model names as Ollama clients write them: `name` or `name:tag`, where a bare name means
 * `name:latest`. caravan matches them case-insensitively, so the canonical form is lower case
 * with an explicit tag.
 */
export function canonicalModelName(name: string): string {
  const lower = name.trim().toLowerCase();
  // A colon after the last slash separates the tag (a registry host may carry a port).
  const lastSlash = lower.lastIndexOf("/");
  const colon = lower.indexOf(":", lastSlash + 1);
  return colon === -1 ? `${lower}:latest` : lower;
}
