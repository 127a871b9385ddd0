/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4),
 * for tests: every line must be a HELP, a TYPE, or a sample of a declared
 * metric with well-formed labels and value; it throws at the first line that
 * is not.
 */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?Inf|NaN)';
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}=${LABEL_VALUE})(?:,${LABEL}=${LABEL_VALUE})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`);
const PAIR = new RegExp(`(${LABEL})=(${LABEL_VALUE})`, 'g');

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly help: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const SUFFIXES: Readonly<Record<string, readonly string[]>> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

/** The declared metric family a sample belongs to: its own name, or a histogram's or summary's with a suffix. */
const familyOf = (name: string, types: ReadonlyMap<string, string>): string | undefined => {
  if (types.has(name)) return name;
  for (const [family, type] of types) for (const suffix of SUFFIXES[type] ?? []) if (name === family + suffix) return family;
  return undefined;
};

export const parseExposition = (text: string): Exposition => {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    let match: RegExpExecArray | null;
    if ((match = HELP.exec(line))) {
      if (help.has(match[1])) throw new Error(`${where}: a second HELP for ${match[1]}`);
      help.set(match[1], match[2]);
    } else if ((match = TYPE.exec(line))) {
      if (types.has(match[1])) throw new Error(`${where}: a second TYPE for ${match[1]}`);
      types.set(match[1], match[2]);
    } else if (line.startsWith('#')) {
      continue;
    } else if ((match = SAMPLE.exec(line))) {
      const [, name, labelText, valueText] = match;
      if (!familyOf(name, types)) throw new Error(`${where}: a sample of ${name}, whose TYPE was not declared before it`);
      const labels = Object.fromEntries([...(labelText ?? '').matchAll(PAIR)].map(([, k, v]) => [k, JSON.parse(v) as string]));
      const value = valueText.endsWith('Inf') ? (valueText.startsWith('-') ? -Infinity : Infinity) : Number(valueText);
      samples.push({ name, labels, value });
    } else {
      throw new Error(`${where}: not a HELP, TYPE or sample line`);
    }
  }
  return { types, help, samples };
};

/** The sum of the samples named `name` whose labels include `labels`. */
export const total = (exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number =>
  exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
