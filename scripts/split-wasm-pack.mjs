// Part of scripts/split-wasm: packs each page group's wasm modules into one
// file, so that a first visit to a page is a few requests, not dozens.
//
// wasm-split-cli gives each group (split point) its own module plus one
// chunk per *set* of groups that share code: with the console's 7 groups,
// 58 chunks, and a container's page needed 32 of them (34 wasm requests).
// Here each group gets a pack: its module and its chunks, concatenated.
// The loader wasm-split-cli wrote is kept, except that it gets each module's
// bytes from a pack already asked for that holds it, else from the module's
// own file: what is instantiated, and when, does not change.
//
// A chunk of at least --separate bytes stays out of the packs (its own
// request, so that it is downloaded once however many groups share it),
// unless that would make a group's first visit more than --budget wasm
// requests (the main module included); then the smallest go into the pack.
// A group shown only inside another (--nested child:parent, a container's
// terminal inside the container's page) leaves the parent's chunks out of
// its pack: they come with the parent.
//
// usage: node split-wasm-pack.mjs --dir DIR --base NAME --out-loader FILE
//          --out-packs DIR [--budget 8] [--separate 16384] [--nested c:p]...
// DIR holds wasm-split-cli's output (__wasm_split.js, split_*.wasm,
// chunk_*.wasm, already optimized). Modules are served as NAME_<module>.wasm
// and packs as NAME_pack_<group>.bin, next to the loader.

import { readFileSync, writeFileSync, statSync, mkdirSync } from "node:fs";
import { join } from "node:path";

function fail(msg) {
  console.error(`split-wasm-pack: error: ${msg}`);
  process.exit(1);
}

const opts = { budget: 8, separate: 16384, nested: [] };
for (let i = 2; i < process.argv.length; i += 2) {
  const [key, value] = [process.argv[i], process.argv[i + 1]];
  if (value === undefined) fail(`${key} needs a value`);
  switch (key) {
    case "--dir": opts.dir = value; break;
    case "--base": opts.base = value; break;
    case "--out-loader": opts.outLoader = value; break;
    case "--out-packs": opts.outPacks = value; break;
    case "--budget": opts.budget = Number(value); break;
    case "--separate": opts.separate = Number(value); break;
    case "--nested": opts.nested.push(value.split(":")); break;
    default: fail(`unknown option ${key}`);
  }
}
for (const k of ["dir", "base", "outLoader", "outPacks"]) if (!opts[k]) fail(`--${k} is missing`);

let js = readFileSync(join(opts.dir, "__wasm_split.js"), "utf8");
const size = (m) => statSync(join(opts.dir, `${m}.wasm`)).size;

// --- what wasm-split-cli wrote: chunks, groups, and each group's chunks ----
const fetchRe = /fetch\(new URL\("\.\/([A-Za-z0-9_]+)\.wasm", import\.meta\.url\)\)/g;
const fetched = [...js.matchAll(fetchRe)].map((m) => m[1]);
const groupRe = /export const __wasm_split_load_([A-Za-z0-9_]+) = wrapAsyncCb\(makeLoad\(([\s\S]*?), \[([^\]]*)\]\)\);/g;
const groups = new Map(); // group -> { module: "split_x" | null, chunks: ["chunk_3", …] }
for (const m of js.matchAll(groupRe)) {
  const module = /"\.\/(split_[A-Za-z0-9_]+)\.wasm"/.exec(m[2])?.[1] ?? null; // null: empty module
  const chunks = m[3].split(",").map((s) => s.trim()).filter(Boolean)
    .map((v) => { const n = /^__chunk_(\d+)$/.exec(v); if (!n) fail(`unexpected dependency ${v}`); return `chunk_${n[1]}`; });
  groups.set(m[1], { module, chunks });
}
if (groups.size === 0) fail("no split points in the loader (wasm-split-cli's output changed?)");
const exportCount = (js.match(/^export const /gm) || []).length;
if (exportCount !== groups.size) fail(`read ${groups.size} of the loader's ${exportCount} exports`);
for (const name of fetched) size(name); // every module the loader fetches exists

// --- what goes where ---------------------------------------------------------
const parentOf = new Map(opts.nested);
for (const [child, parent] of parentOf) {
  if (!groups.has(child) || !groups.has(parent)) fail(`--nested ${child}:${parent}: no such group`);
}
const plan = new Map(); // group -> { pack: [modules], separate: [chunks] }
for (const [name, g] of groups) {
  const inherited = new Set(parentOf.has(name) ? groups.get(parentOf.get(name)).chunks : []);
  const mine = g.chunks.filter((c) => !inherited.has(c));
  const separate = mine.filter((c) => size(c) >= opts.separate).sort((a, b) => size(b) - size(a));
  const pack = [...(g.module ? [g.module] : []), ...mine.filter((c) => !separate.includes(c))];
  plan.set(name, { pack, separate });
}
const own = (name) => { const p = plan.get(name); return (p.pack.length ? 1 : 0) + p.separate.length; };
const requests = (name) => 1 + own(name) + (parentOf.has(name) ? own(parentOf.get(name)) : 0);
for (const name of groups.keys()) {
  for (const n of [name, parentOf.get(name)].filter(Boolean)) {
    const p = plan.get(n);
    while (requests(name) > opts.budget && p.separate.length) p.pack.push(p.separate.pop());
  }
  if (requests(name) > opts.budget) fail(`${name}: ${requests(name)} wasm requests, over the budget of ${opts.budget}`);
}

// --- the packs -----------------------------------------------------------------
mkdirSync(opts.outPacks, { recursive: true });
const packs = {}; // group -> [file, total, { module: [offset, length] }]
for (const [name, p] of plan) {
  if (!p.pack.length) continue;
  const file = `${opts.base}_pack_${name}.bin`;
  const parts = p.pack.map((m) => readFileSync(join(opts.dir, `${m}.wasm`)));
  const index = {};
  let offset = 0;
  p.pack.forEach((m, i) => { index[m] = [offset, parts[i].length]; offset += parts[i].length; });
  writeFileSync(join(opts.outPacks, file), Buffer.concat(parts));
  packs[name] = [file, offset, index];
}

// --- the loader: modules' bytes from the packs --------------------------------
let replaced = 0;
js = js.replace(fetchRe, (_, m) => { replaced++; return `__wasmFile(${JSON.stringify(m)})`; });
if (replaced !== fetched.length) fail("could not replace every fetch in the loader");
js = js.replace(/^export const __wasm_split_load_([A-Za-z0-9_]+) = /gm, "const __load_$1 = ");
js += `
// Added by scripts/split-wasm (split-wasm-pack.mjs): each group's modules
// come in one pack; a module is taken from a pack already asked for that
// holds it, else fetched from its own file.
const __packs = ${JSON.stringify(packs)};
const __started = new Map();
function __startPack(group) {
    const entry = __packs[group];
    if (!entry || __started.has(group)) return;
    const [file, total, index] = entry;
    const bytes = fetch(new URL("./" + file, import.meta.url)).then(async (r) => {
        const buf = await r.arrayBuffer();
        // (a relay answers a missing file with its index.html, status 200)
        if (!r.ok || buf.byteLength !== total) {
            throw new Error(\`could not load \${file}: HTTP \${r.status}, \${buf.byteLength} bytes of \${r.headers.get("Content-Type")}, not \${total} bytes\`);
        }
        return buf;
    });
    // A failure is not kept: the next attempt asks again.
    bytes.catch(() => { if (__started.get(group)?.bytes === bytes) __started.delete(group); });
    __started.set(group, { bytes, index });
}
async function __wasmFile(module) {
    // One microtask later: the packs asked for in the same turn (a page and
    // its parent page) are all known by then.
    await null;
    for (const { bytes, index } of __started.values()) {
        const at = index[module];
        if (at) {
            const buf = await bytes;
            return new Response(new Uint8Array(buf, at[0], at[1]), { headers: { "Content-Type": "application/wasm" } });
        }
    }
    return fetch(new URL("./${opts.base}_" + module + ".wasm", import.meta.url));
}
function __packFirst(group, load) {
    return (...args) => { __startPack(group); return load(...args); };
}
`;
for (const name of groups.keys()) {
  js += `export const __wasm_split_load_${name} = __packFirst(${JSON.stringify(name)}, __load_${name});\n`;
}
writeFileSync(opts.outLoader, js);

// --- what a first visit takes ---------------------------------------------------
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const name of groups.keys()) {
  const p = plan.get(name);
  const bytes = p.pack.reduce((s, m) => s + size(m), 0) + p.separate.reduce((s, m) => s + size(m), 0);
  const parent = parentOf.has(name) ? ` (and ${parentOf.get(name)}'s)` : "";
  console.error(`split-wasm:   ${name}: ${requests(name)} wasm requests${parent}; pack of ${p.pack.length} modules + ${p.separate.length} separate, ${kib(bytes)} raw`);
}
