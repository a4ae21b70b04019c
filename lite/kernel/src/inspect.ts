/**
 * A small `util.inspect` / `util.format` for the worker (Node's are not there): what
 * `console.log(value)` and a cell's last expression print.
 */

const MAX_ITEMS = 100;

function isTensorLike(v: object): v is { toString(verbose?: boolean): string; shape: number[]; dtype: string } {
  const t = v as { shape?: unknown; dtype?: unknown; dataSync?: unknown };
  return Array.isArray(t.shape) && typeof t.dtype === 'string' && typeof t.dataSync === 'function';
}

function key(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k.replace(/'/g, "\\'")}'`;
}

/** A readable, Node-like rendering of any value (strings quoted). */
export function inspect(value: unknown, depth = 2, seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case 'string':
      return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function: ${value.name || '(anonymous)'}]`;
    case 'boolean':
      return String(value);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.has(obj)) return '[Circular]';
  if (obj instanceof Error) return obj.stack ?? `${obj.name}: ${obj.message}`;
  if (obj instanceof Date) return obj.toISOString();
  if (obj instanceof RegExp) return String(obj);
  if (obj instanceof Promise) return 'Promise { <pending> }';
  if (isTensorLike(obj)) {
    try {
      return obj.toString();
    } catch {
      return `Tensor ${obj.dtype} [${obj.shape.join(', ')}] (disposed)`;
    }
  }
  if (depth < 0) return Array.isArray(obj) ? '[Array]' : '[Object]';
  seen.add(obj);
  try {
    const sub = (v: unknown) => inspect(v, depth - 1, seen);
    const wrap = (open: string, items: string[], close: string, more: number) => {
      if (more > 0) items.push(`... ${more} more item${more > 1 ? 's' : ''}`);
      if (items.length === 0) return `${open}${close}`;
      const flat = `${open} ${items.join(', ')} ${close}`;
      return flat.length <= 72 ? flat : `${open}\n${items.map((s) => '  ' + s.replace(/\n/g, '\n  ')).join(',\n')}\n${close}`;
    };
    if (Array.isArray(obj)) {
      return wrap('[', obj.slice(0, MAX_ITEMS).map(sub), ']', obj.length - MAX_ITEMS);
    }
    if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
      const arr = obj as unknown as ArrayLike<number>;
      const items = Array.from({ length: Math.min(arr.length, MAX_ITEMS) }, (_, i) => sub(arr[i]));
      return `${obj.constructor.name}(${arr.length}) ` + wrap('[', items, ']', arr.length - MAX_ITEMS);
    }
    if (obj instanceof Map) {
      const items = [...obj].slice(0, MAX_ITEMS).map(([k, v]) => `${sub(k)} => ${sub(v)}`);
      return `Map(${obj.size}) ` + wrap('{', items, '}', obj.size - MAX_ITEMS);
    }
    if (obj instanceof Set) {
      return `Set(${obj.size}) ` + wrap('{', [...obj].slice(0, MAX_ITEMS).map(sub), '}', obj.size - MAX_ITEMS);
    }
    const name = obj.constructor && obj.constructor !== Object ? `${obj.constructor.name} ` : '';
    const keys = Object.keys(obj);
    const items = keys.slice(0, MAX_ITEMS).map((k) => `${key(k)}: ${sub((obj as Record<string, unknown>)[k])}`);
    return name + wrap('{', items, '}', keys.length - MAX_ITEMS);
  } finally {
    seen.delete(obj);
  }
}

/** Node's `util.format` for console.log's arguments: strings as they are, %s %d %i %f %j %o %O %%. */
export function format(...args: unknown[]): string {
  if (args.length === 0) return '';
  let rest = args;
  let head = '';
  if (typeof args[0] === 'string') {
    let i = 1;
    head = args[0].replace(/%[sdifjoO%]/g, (m) => {
      if (m === '%%') return '%';
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case '%s':
          return typeof a === 'string' ? a : inspect(a, 1);
        case '%d':
        case '%i':
          return String(m === '%i' ? parseInt(String(a), 10) : Number(a));
        case '%f':
          return String(parseFloat(String(a)));
        case '%j':
          return JSON.stringify(a);
        default:
          return inspect(a);
      }
    });
    rest = args.slice(i);
    if (rest.length === 0) return head;
    return [head, ...rest.map((a) => (typeof a === 'string' ? a : inspect(a)))].join(' ');
  }
  return rest.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
}
