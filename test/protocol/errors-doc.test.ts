import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_TITLES } from '../../src/protocol/errors.js';

/** The rows of the first table under the "## Error codes" heading, as code → title. */
const documentedErrorTitles = (markdown: string): Map<number, string> => {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Error codes'));
  if (section === undefined) throw new Error('docs/protocol.md has no "## Error codes" section');
  const rows = new Map<number, string>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*(\d+)\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (cells) rows.set(Number(cells[1]), cells[2]);
  }
  return rows;
};

describe('the error codes in docs/protocol.md', () => {
  const documented = documentedErrorTitles(readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8'));

  it('list exactly the codes and titles of ERROR_TITLES, in order', () => {
    expect([...documented.entries()]).toEqual(Object.entries(ERROR_TITLES).map(([code, title]) => [Number(code), title]));
  });

  it('number the codes 1 to 8', () => {
    expect([...documented.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
