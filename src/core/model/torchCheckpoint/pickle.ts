// A restricted unpickler: the pickle opcodes of protocols 0..5 that torch.save and Python's pickler emit for
// plain containers, numbers, strings and bytes. Every global is resolved through `findGlobal`, which decides
// what may be built; nothing here imports or runs anything a file names.
import { UserError } from '../../../shared/api';

/** What a global resolves to: a function of its positional arguments, as REDUCE and NEWOBJ call it. */
export interface PyCallable {
  readonly kind: 'callable';
  readonly qualifiedName: string;
  call(args: unknown[]): unknown;
}

export interface UnpickleHooks {
  /** Resolves `module.name`, or throws the refusal sentence. */
  findGlobal(module: string, name: string): PyCallable;
  persistentLoad(id: unknown): unknown;
  /** BUILD: applies `state` to `target` and returns the result; absent, or returning `target`, ignores it. */
  build?(target: unknown, state: unknown): unknown;
}

export interface Unpickled {
  value: unknown;
  /** The offset just past the STOP opcode (the legacy format holds several pickles in a row). */
  end: number;
}

export function truncatedSentence(label: string): string {
  return `"${label}" ends in the middle of its data: the file is truncated (an interrupted download or copy?), so it was not loaded.`;
}

export function notPickleSentence(label: string, what: string): string {
  return `"${label}" is not a PyTorch checkpoint (${what}), so it was not loaded.`;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function asTuple(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Reads one pickle starting at `start` and returns its value and where it ended. */
export function unpickle(bytes: Uint8Array, start: number, hooks: UnpickleHooks, label: string): Unpickled {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;

  const need = (n: number | bigint): number => {
    if (BigInt(n) > BigInt(bytes.length - pos)) throw new UserError(truncatedSentence(label));
    const at = pos;
    pos += Number(n);
    return at;
  };
  const u8 = () => bytes[need(1)]!;
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => view.getBigUint64(need(8), true);
  const take = (n: number | bigint) => {
    if (n < 0) throw new UserError(notPickleSentence(label, `its pickle data declares a negative length near byte ${pos}`));
    const at = need(n);
    return bytes.subarray(at, at + Number(n));
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new UserError(truncatedSentence(label));
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      throw new UserError(notPickleSentence(label, `its pickle data is malformed near byte ${pos}`));
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new UserError(notPickleSentence(label, `its pickle data is malformed near byte ${pos}`));
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const at = marks.pop();
    if (at === undefined) throw new UserError(notPickleSentence(label, `its pickle data is malformed near byte ${pos}`));
    return stack.splice(at);
  };
  const callable = (value: unknown): PyCallable => {
    if (typeof value === 'object' && value !== null && (value as PyCallable).kind === 'callable') return value as PyCallable;
    throw new UserError(notPickleSentence(label, `its pickle data calls something that is not a function near byte ${pos}`));
  };
  const memoGet = (key: number): unknown => {
    if (!memo.has(key)) throw new UserError(notPickleSentence(label, `its pickle data refers to a value it never stored near byte ${pos}`));
    return memo.get(key);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) throw new UserError(notPickleSentence(label, `its pickle data sets items on a value that is not a dict near byte ${pos}`));
    for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) throw new UserError(notPickleSentence(label, `its pickle data appends to a value that is not a list near byte ${pos}`));
    for (const item of items) target.push(item);
  };
  const signed = (raw: Uint8Array): number | bigint => {
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]!);
    if (raw.length > 0 && raw[raw.length - 1]! & 0x80) value -= 1n << BigInt(raw.length * 8);
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  };
  const decimal = (text: string): number | bigint => {
    const cleaned = text.replace(/L$/, '');
    if (!/^[-+]?\d+$/.test(cleaned)) throw new UserError(notPickleSentence(label, `its pickle data holds a malformed number near byte ${pos}`));
    const value = BigInt(cleaned);
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new UserError(notPickleSentence(label, 'it uses a pickle protocol newer than 5'));
        break;
      case 0x95: // FRAME: framing only groups the opcodes that follow
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signed(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(signed(take(view.getInt32(need(4), true))));
        break;
      case 0x49: { // INT (protocol 0; "01"/"00" are True/False)
        const text = line();
        stack.push(text === '01' ? true : text === '00' ? false : decimal(text));
        break;
      }
      case 0x4c: // LONG (protocol 0)
        stack.push(decimal(line()));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x46: { // FLOAT (protocol 0)
        const value = Number(line());
        if (Number.isNaN(value)) throw new UserError(notPickleSentence(label, `its pickle data holds a malformed number near byte ${at}`));
        stack.push(value);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(take(u32())));
        break;
      case 0x56: // UNICODE (protocol 0: raw-unicode-escape, one line)
        stack.push(line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, short: string | undefined, long: string | undefined) => String.fromCodePoint(parseInt(short ?? long!, 16))));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      // Python 2 `str`: torch.load decodes it as text too (the DeepLab inits were saved from Python 2).
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(view.getInt32(need(4), true))));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const item = pop();
        append(top(), [item]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const dict = new Map();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET (a set comes back as a list)
        stack.push([]);
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT (protocol 0)
        memo.set(Number(decimal(line())), top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET (protocol 0)
        stack.push(memoGet(Number(decimal(line()))));
        break;
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(hooks.findGlobal(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new UserError(notPickleSentence(label, `its pickle data names a global that is not text near byte ${at}`));
        }
        stack.push(hooks.findGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        stack.push(callable(pop()).call(asTuple(args)));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        stack.push(callable(pop()).call(asTuple(args)));
        break;
      }
      case 0x92: { // NEWOBJ_EX (keyword arguments are not part of any call we allow)
        pop();
        const args = pop();
        stack.push(callable(pop()).call(asTuple(args)));
        break;
      }
      case 0x62: { // BUILD: besides a NumPy dtype's byte order, the states allowed objects carry (an OrderedDict's
        // `_metadata`, a parameter's hooks) mean nothing to a weight.
        const state = pop();
        const target = top();
        if (hooks.build) stack[stack.length - 1] = hooks.build(target, state);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (protocol 0)
        stack.push(hooks.persistentLoad(line()));
        break;
      default:
        if (at === start) throw new UserError(notPickleSentence(label, 'it does not start with pickle data'));
        throw new UserError(notPickleSentence(label, `byte ${at} holds pickle opcode 0x${op.toString(16).padStart(2, '0')}, which no checkpoint uses`));
    }
  }
}

