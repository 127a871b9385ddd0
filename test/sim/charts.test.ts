/**
 * The hand-written SVG charts are well-formed XML, carry one path per series
 * under its name, and escape what they are given.
 */
import { describe, expect, it } from 'vitest';
import { cdfChart, cdfPoints, lineChart } from '../../src/sim/charts.js';

/** A small well-formedness check: balanced tags, quoted attributes, known entities, one root. */
const wellFormedProblems = (xml: string): string[] => {
  const problems: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  const text = xml.replace(/<\?xml[^>]*\?>/, '');
  for (const m of text.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos|#\d+);)/g)) {
    if (m[0] === '<') problems.push(`stray < at ${m.index}`);
    else if (m[0].startsWith('&')) problems.push(`bare & at ${m.index}`);
    else if (m[1]) {
      if (stack.pop() !== m[2]) problems.push(`unbalanced </${m[2]}> at ${m.index}`);
    } else if (!m[4]) {
      if (stack.length === 0) roots++;
      stack.push(m[2]);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length) problems.push(`unclosed ${stack.join(', ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
};

const seriesNames = (svg: string): string[] => [...svg.matchAll(/<path data-series="([^"]*)"/g)].map((m) => m[1]);

describe('the SVG charts', () => {
  it('draws a CDF of lookup latency as well-formed SVG with one path per series', () => {
    const svg = cdfChart({
      title: 'Lookup latency <10k nodes & WAN>',
      xLabel: 'virtual ms',
      series: [
        { name: 'get', samples: [120, 80, 300, 95, 1500] },
        { name: 'set', samples: [400, 900, 650] },
      ],
      logX: true,
    });
    expect(wellFormedProblems(svg)).toEqual([]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(seriesNames(svg)).toEqual(['get (n = 5)', 'set (n = 3)']);
    expect(svg).toContain('Lookup latency &lt;10k nodes &amp; WAN&gt;');
  });

  it('draws get success against churn with a point per session median', () => {
    const svg = lineChart({
      title: 'Get success against churn',
      xLabel: 'median session (min)',
      yLabel: 'fraction',
      logX: true,
      yMin: 0,
      yMax: 1,
      series: [{ name: 'get success', points: [[1.4, 0.9], [5, 0.97], [30, 1]] }],
    });
    expect(wellFormedProblems(svg)).toEqual([]);
    expect(seriesNames(svg)).toEqual(['get success']);
    expect(svg.match(/<circle /g)).toHaveLength(3);
  });

  it('would catch a malformed document', () => {
    expect(wellFormedProblems('<svg><g></svg>')).not.toEqual([]);
    expect(wellFormedProblems('<svg>a & b</svg>')).not.toEqual([]);
  });

  it('turns samples into a CDF that ends at 1', () => {
    expect(cdfPoints([3, 1, 2])).toEqual([[1, 1 / 3], [2, 2 / 3], [3, 1], [3, 1]]);
    expect(cdfPoints(Array.from({ length: 10_000 }, (_, i) => i)).length).toBeLessThan(500);
  });
});
