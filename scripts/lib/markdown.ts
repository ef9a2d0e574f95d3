// Counting ```mermaid fences in a markdown source, the way markdown-it sees them: a fence inside a
// longer fence (a code sample that shows a mermaid block) is text, not a diagram.
export function countMermaidFences(md: string): number {
  let count = 0;
  let open: { ch: string; len: number } | null = null;
  for (const line of md.split('\n')) {
    const m = line.match(/^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/);
    if (!m) continue;
    const fence = m[1]!;
    if (open) {
      // A closing fence: same character, at least as long, nothing after it.
      if (fence[0] === open.ch && fence.length >= open.len && line.trim() === fence) open = null;
      continue;
    }
    open = { ch: fence[0]!, len: fence.length };
    if (/^(mermaid|mmd)$/i.test(m[2] ?? '')) count++;
  }
  return count;
}
