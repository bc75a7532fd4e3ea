// zip.js -- reading the bundle the server sent (a zip in memory), so the
// page can list its files and check them against its checksums.txt: the
// central directory (zip64 included) gives each entry, the browser's own
// DecompressionStream inflates it, and SHA-256 comes from Web Crypto
// (present on https and on localhost; elsewhere the sums are shown
// unchecked).

const u16 = (v, p) => v.getUint16(p, true);
const u32 = (v, p) => v.getUint32(p, true);
const u64 = (v, p) => u32(v, p) + u32(v, p + 4) * 2 ** 32;

// entries(buf) -> [{name, method, csize, size, offset, dir}]
export function entries(buf) {
  const v = new DataView(buf);
  let eocd = -1;
  for (let i = buf.byteLength - 22; i >= Math.max(0, buf.byteLength - 22 - 65535); i--) {
    if (u32(v, i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error("the answer is not a zip archive (no end of central directory)");
  let n = u16(v, eocd + 10), at = u32(v, eocd + 16);
  if ((n === 0xffff || at === 0xffffffff) && eocd >= 20 && u32(v, eocd - 20) === 0x07064b50) {
    const z = u64(v, eocd - 12);
    n = u64(v, z + 32);
    at = u64(v, z + 48);
  }
  const names = new TextDecoder();
  const out = [];
  for (let i = 0; i < n; i++) {
    if (u32(v, at) !== 0x02014b50) throw new Error(`zip: central directory entry ${i + 1} is damaged`);
    const nlen = u16(v, at + 28), xlen = u16(v, at + 30), clen = u16(v, at + 32);
    const e = { method: u16(v, at + 10), csize: u32(v, at + 20), size: u32(v, at + 24), offset: u32(v, at + 42) };
    e.name = names.decode(new Uint8Array(buf, at + 46, nlen));
    for (let x = at + 46 + nlen; x + 4 <= at + 46 + nlen + xlen;) { // zip64 sizes and offset
      const id = u16(v, x), len = u16(v, x + 2);
      if (id === 1) {
        let q = x + 4;
        for (const k of ["size", "csize", "offset"]) if (e[k] === 0xffffffff) { e[k] = u64(v, q); q += 8; }
      }
      x += 4 + len;
    }
    e.dir = e.name.endsWith("/");
    out.push(e);
    at += 46 + nlen + xlen + clen;
  }
  return out;
}

// data(buf, e) -> Uint8Array of the entry's contents
export async function data(buf, e) {
  const v = new DataView(buf);
  if (u32(v, e.offset) !== 0x04034b50) throw new Error(`zip: the local header of ${e.name} is damaged`);
  const start = e.offset + 30 + u16(v, e.offset + 26) + u16(v, e.offset + 28);
  const raw = new Uint8Array(buf, start, e.csize);
  if (e.method === 0) return raw;
  if (e.method !== 8) throw new Error(`zip: ${e.name} uses compression method ${e.method}`);
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function sha256(bytes) {
  if (!globalThis.crypto || !crypto.subtle) return null;
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// check(buf) -> {files: [{name, size}], sums: [{name, want, got, ok}], checked}
// (sums: the lines of checksums.txt, each with the digest of the file it names)
export async function check(buf) {
  const list = entries(buf);
  const files = list.filter((e) => !e.dir);
  const byName = new Map(files.map((e) => [e.name, e]));
  const out = { files: files.map((e) => ({ name: e.name, size: e.size })), sums: [],
    checked: Boolean(globalThis.crypto && crypto.subtle) };
  const sums = byName.get("checksums.txt");
  if (!sums) return out;
  const text = new TextDecoder().decode(await data(buf, sums));
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
    if (!m) continue;
    const e = byName.get(m[2]);
    const got = e ? await sha256(await data(buf, e)) : undefined;
    out.sums.push({ name: m[2], want: m[1], got, ok: e ? (got === null ? null : got === m[1]) : false });
  }
  return out;
}
