// Small Markdown helpers for the generated docs; prettier formats the result.

/** Text safe inside a table cell: one line, pipes escaped. */
export function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** An inline code span, safe inside a table cell (GFM honours `\|` inside code spans in tables). */
export function code(text: string): string {
  const safe = cell(text);
  return safe.includes('`') ? `\`\` ${safe} \`\`` : `\`${safe}\``;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
