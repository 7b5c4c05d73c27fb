import { AppError } from '../../core/index.ts';
import {
  attributeColumns,
  type Comparison,
  type Field,
  type FieldKind,
  type FilterNode,
  isAttributeName,
  type OrderKey,
} from './filter-ast.ts';

type Token =
  | { t: 'ident'; v: string; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'num'; v: number; raw: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'punct'; v: '(' | ')' | ',' | '.'; pos: number }
  | { t: 'end'; pos: number };

const maxFilterLength = 4000;

function fail(msg: string, pos?: number): never {
  throw new AppError('INVALID_FILTER', pos === undefined ? msg : `${msg} (at character ${pos + 1})`);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        // A backslash escapes the next character, so quotes can appear inside values.
        if (src[j] === '\\' && j + 1 < src.length) j++;
        v += src[j];
        j++;
      }
      if (j >= src.length) fail('unterminated quoted string', i);
      out.push(c === '`' ? { t: 'ident', v, pos: i } : { t: 'str', v, pos: i });
      i = j + 1;
    } else if (/[0-9]/.test(c) && src[i - 1] === '.' && out.at(-1)?.t === 'punct') {
      // Right after a key's dot (`metrics.layer.0.loss`) digits start a key part: read as a
      // number, `0.` would swallow the next dot.
      const m = /^[A-Za-z0-9_][A-Za-z0-9_-]*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: 'ident', v: m[0], pos: i });
      i += m[0].length;
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '+') && /[0-9.]/.test(src[i + 1] ?? ''))) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(src.slice(i));
      if (!m) fail('bad number', i);
      out.push({ t: 'num', v: Number(m[0]), raw: m[0], pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: 'ident', v: m[0], pos: i });
      i += m[0].length;
    } else if ('()<>=!,.'.includes(c)) {
      const two = src.slice(i, i + 2);
      if (['<=', '>=', '!=', '<>', '=='].includes(two)) {
        out.push({ t: 'op', v: two === '<>' ? '!=' : two === '==' ? '=' : two, pos: i });
        i += 2;
      } else if ('<>='.includes(c)) {
        out.push({ t: 'op', v: c, pos: i });
        i++;
      } else if (c === '!') {
        fail("unexpected '!'", i);
      } else {
        out.push({ t: 'punct', v: c as '(' | ')' | ',' | '.', pos: i });
        i++;
      }
    } else {
      fail(`unexpected character '${c}'`, i);
    }
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

const kindAliases: Record<string, FieldKind> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i] as Token;
  }
  private next(): Token {
    return this.toks[this.i++] as Token;
  }
  private isWord(tok: Token, word: string): boolean {
    return tok.t === 'ident' && tok.v.toLowerCase() === word;
  }
  private expectPunct(v: string): void {
    const tok = this.next();
    if (tok.t !== 'punct' || tok.v !== v) fail(`expected '${v}'`, tok.pos);
  }

  expectEnd(message: string): void {
    const tok = this.peek();
    if (tok.t !== 'end') fail(message, tok.pos);
  }

  parseAll(): FilterNode {
    const node = this.parseOr();
    const tok = this.peek();
    if (tok.t !== 'end') fail('unexpected text after the end of the expression', tok.pos);
    return node;
  }

  private parseOr(): FilterNode {
    const args = [this.parseAnd()];
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      args.push(this.parseAnd());
    }
    return args.length === 1 ? (args[0] as FilterNode) : { op: 'or', args };
  }

  private parseAnd(): FilterNode {
    const args = [this.parseUnary()];
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      args.push(this.parseUnary());
    }
    return args.length === 1 ? (args[0] as FilterNode) : { op: 'and', args };
  }

  private parseUnary(): FilterNode {
    const tok = this.peek();
    if (this.isWord(tok, 'not')) {
      // `not` nests like a parenthesis: a long chain overflows SQLite's expression depth (1000).
      if (++this.depth > 50) fail('filter nests too deeply', tok.pos);
      this.next();
      const arg = this.parseUnary();
      this.depth--;
      return { op: 'not', arg };
    }
    if (tok.t === 'punct' && tok.v === '(') {
      if (++this.depth > 50) fail('filter nests too deeply', tok.pos);
      this.next();
      const inner = this.parseOr();
      this.expectPunct(')');
      this.depth--;
      return inner;
    }
    return this.parseComparison();
  }

  parseField(): Field {
    const tok = this.next();
    if (tok.t !== 'ident') fail('expected a field such as metrics.auc, params.lr, tags.team or status', tok.pos);
    const dot = this.peek();
    if (dot.t === 'punct' && dot.v === '.') {
      const kind = kindAliases[tok.v.toLowerCase()];
      if (!kind) fail(`unknown field kind '${tok.v}': use metrics, params, tags or attributes`, tok.pos);
      this.next();
      // Keys may contain dots (`metrics.val.auc`): take identifiers joined by dots, or one quoted key.
      const keyTok = this.next();
      if (keyTok.t !== 'ident' && keyTok.t !== 'str') fail('expected a key name after the dot', keyTok.pos);
      let key = keyTok.v;
      while (keyTok.t === 'ident' && this.peek().t === 'punct' && (this.peek() as { v: string }).v === '.') {
        this.next();
        const more = this.next();
        if (more.t !== 'ident' && more.t !== 'num') fail('expected a key name after the dot', more.pos);
        key += `.${more.t === 'num' ? more.raw : more.v}`;
      }
      return checkField({ kind, key }, keyTok.pos);
    }
    return checkField({ kind: 'attribute', key: tok.v }, tok.pos);
  }

  private parseValue(field: Field): string | number {
    const tok = this.next();
    if (tok.t === 'str') return tok.v;
    if (tok.t === 'num') return field.kind === 'param' || field.kind === 'tag' ? tok.raw : tok.v;
    fail('expected a quoted string or a number', tok.pos);
  }

  private parseComparison(): FilterNode {
    const field = this.parseField();
    const tok = this.next();
    let negate = false;
    let opWord = tok.t === 'ident' ? tok.v.toLowerCase() : tok.t === 'op' ? tok.v : '';
    if (opWord === 'not') {
      negate = true;
      const inTok = this.next();
      opWord = inTok.t === 'ident' ? inTok.v.toLowerCase() : '';
      if (opWord !== 'in') fail("expected 'in' after 'not'", inTok.pos);
    }
    if (opWord === 'in') {
      this.expectPunct('(');
      const values = [this.parseValue(field)];
      while (this.peek().t === 'punct' && (this.peek() as { v: string }).v === ',') {
        this.next();
        values.push(this.parseValue(field));
        if (values.length > 1000) fail('an in-list holds at most 1000 values', tok.pos);
      }
      this.expectPunct(')');
      return checkValues({ op: 'in', field, values, negate }, tok.pos);
    }
    const cmps = ['=', '!=', '<', '<=', '>', '>=', 'like', 'ilike'];
    if (!cmps.includes(opWord)) fail('expected a comparison: = != < <= > >= like ilike in', tok.pos);
    const value = this.parseValue(field);
    return checkValues({ op: 'cmp', field, cmp: opWord as Comparison, value }, tok.pos);
  }
}

function checkField(field: Field, pos: number): Field {
  if (field.kind === 'attribute' && !isAttributeName(field.key)) {
    fail(`unknown attribute '${field.key}': use one of ${Object.keys(attributeColumns).join(', ')}`, pos);
  }
  if (field.key.length === 0 || field.key.length > 250) fail('keys are 1 to 250 characters', pos);
  return field;
}

/** Whether the field holds numbers (metrics, times) rather than strings. */
export function isNumericField(field: Field): boolean {
  if (field.kind === 'metric') return true;
  if (field.kind !== 'attribute' || !isAttributeName(field.key)) return false;
  return attributeColumns[field.key].type === 'number';
}

function checkValues(node: FilterNode, pos: number): FilterNode {
  if (node.op !== 'cmp' && node.op !== 'in') return node;
  const numeric = isNumericField(node.field);
  const values = node.op === 'cmp' ? [node.value] : node.values;
  for (const v of values) {
    if (numeric && typeof v !== 'number') fail(`${describe(node.field)} is numeric: compare it with a number`, pos);
    if (!numeric && typeof v !== 'string') fail(`${describe(node.field)} is a string: quote the value`, pos);
    if (typeof v === 'number' && !Number.isFinite(v)) fail(`${describe(node.field)}: the number is out of range`, pos);
    // Times are integer epoch ms in bigint columns: Postgres refuses a fraction or a value past 2^63 there.
    if (typeof v === 'number' && node.field.kind === 'attribute' && !Number.isSafeInteger(v)) {
      fail(`${describe(node.field)} is epoch milliseconds: compare it with an integer`, pos);
    }
  }
  if (node.op === 'cmp' && numeric && (node.cmp === 'like' || node.cmp === 'ilike')) {
    fail(`like/ilike apply to strings, not to ${describe(node.field)}`, pos);
  }
  return node;
}

const describe = (f: Field) => (f.kind === 'attribute' ? f.key : `${f.kind}s.${f.key}`);

/** Parses an MLflow-style run filter; the empty string means "every run". */
export function parseFilter(src: string | undefined): FilterNode | null {
  if (src === undefined || src.trim() === '') return null;
  if (src.length > maxFilterLength) fail(`filter is longer than ${maxFilterLength} characters`);
  return new Parser(tokenize(src)).parseAll();
}

/** Parses `metrics.auc DESC`, `start_time`, `params.lr ASC`, … */
export function parseOrderBy(items: string[] | undefined): OrderKey[] {
  if (!items || items.length === 0) return [{ field: { kind: 'attribute', key: 'start_time' }, desc: true }];
  if (items.length > 5) fail('order by at most 5 keys');
  return items.map((item) => {
    const m = /^(.*?)(?:\s+(asc|desc))?\s*$/i.exec(item) as RegExpExecArray;
    const parser = new Parser(tokenize(m[1] ?? ''));
    const field = parser.parseField();
    parser.expectEnd(`cannot read order key '${item}'`);
    return { field, desc: (m[2] ?? '').toLowerCase() === 'desc' };
  });
}
