import { readFile, writeFile } from "node:fs/promises";

/**
 * Test support: writes a copy of a GGUF file with metadata keys added or replaced (strings, or
 * numbers as uint32), the tensors unchanged, so tests can give the tiny real models a chat
 * template or FIM tokens. New keys go after the existing ones. Reads the whole file: meant for
 * the tiny test models only.
 *
 * GGUF v3: magic, u32 version, u64 tensor_count, u64 kv_count, the KVs, the tensor infos, then
 * padding to `general.alignment` and the tensor data. Tensor offsets are relative to the data
 * start, so rewriting the KV section and padding again leaves the tensors valid.
 */
export async function deriveGguf(source: string, target: string, extra: Record<string, string | number>): Promise<void> {
  const file = await readFile(source);
  if (file.toString("latin1", 0, 4) !== "GGUF" || file.readUInt32LE(4) < 3) throw new Error(`${source}: not a GGUF v3 file`);
  const reader = new Reader(file, 24);
  const tensorCount = Number(file.readBigUInt64LE(8));
  const kvCount = Number(file.readBigUInt64LE(16));
  let alignment = 32;
  const kept: Buffer[] = [];
  for (let i = 0; i < kvCount; i++) {
    const start = reader.offset;
    const key = reader.string();
    const type = reader.u32();
    if (key === "general.alignment") alignment = file.readUInt32LE(reader.offset);
    reader.skipValue(type);
    if (!(key in extra)) kept.push(file.subarray(start, reader.offset));
  }
  const kvEnd = reader.offset;
  for (let i = 0; i < tensorCount; i++) {
    reader.string();
    const dims = reader.u32();
    reader.offset += dims * 8 + 4 + 8; // dimensions, type, offset
  }
  const tensorInfoEnd = reader.offset;
  const dataStart = alignUp(tensorInfoEnd, alignment);

  const header = Buffer.from(file.subarray(0, 24));
  header.writeBigUInt64LE(BigInt(kept.length + Object.keys(extra).length), 16);
  const added = Object.entries(extra).map(([key, value]) => encodeKv(key, value));
  const info = Buffer.concat([header, ...kept, ...added, file.subarray(kvEnd, tensorInfoEnd)]);
  const padding = Buffer.alloc(alignUp(info.length, alignment) - info.length);
  await writeFile(target, Buffer.concat([info, padding, file.subarray(dataStart)]));
}

const STRING = 8;
const UINT32 = 4;
const ARRAY = 9;
// Sizes of the fixed-width GGUF value types, by type id.
const FIXED_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

class Reader {
  constructor(
    private readonly file: Buffer,
    public offset: number,
  ) {}

  u32(): number {
    const value = this.file.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  u64(): number {
    const value = Number(this.file.readBigUInt64LE(this.offset));
    this.offset += 8;
    return value;
  }

  string(): string {
    const length = this.u64();
    const value = this.file.toString("utf8", this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  skipValue(type: number): void {
    if (type === STRING) this.string();
    else if (type === ARRAY) {
      const itemType = this.u32();
      const count = this.u64();
      for (let i = 0; i < count; i++) this.skipValue(itemType);
    } else if (FIXED_SIZES[type] !== undefined) this.offset += FIXED_SIZES[type];
    else throw new Error(`unknown GGUF value type ${type} at byte ${this.offset}`);
  }
}

function encodeKv(key: string, value: string | number): Buffer {
  const keyBytes = Buffer.from(key, "utf8");
  const head = Buffer.alloc(8 + keyBytes.length + 4);
  head.writeBigUInt64LE(BigInt(keyBytes.length), 0);
  keyBytes.copy(head, 8);
  if (typeof value === "number") {
    head.writeUInt32LE(UINT32, 8 + keyBytes.length);
    const body = Buffer.alloc(4);
    body.writeUInt32LE(value, 0);
    return Buffer.concat([head, body]);
  }
  head.writeUInt32LE(STRING, 8 + keyBytes.length);
  const valueBytes = Buffer.from(value, "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(valueBytes.length), 0);
  return Buffer.concat([head, length, valueBytes]);
}

const alignUp = (offset: number, alignment: number) => Math.ceil(offset / alignment) * alignment;
