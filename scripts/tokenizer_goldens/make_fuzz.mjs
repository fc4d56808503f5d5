// Differential check, not committed output: writes /tmp/qlm_tokenizer_fuzz.json with 4,000 seeded
// random strings plus every line of ../shared/data/text and the reference ids for each
// tokenizer; compare with: qlm_tokenizer_compare /tmp/qlm_tokenizer_fuzz.json
import { TokenizerLoader } from "@lenml/tokenizers";
import fs from "fs";
const data = new URL("../../../shared/data/", import.meta.url).pathname;
const rj = (p) => JSON.parse(fs.readFileSync(data + p, "utf8"));
function mulberry32(seed) { return () => { seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const rand = mulberry32(777);
const pools = [[0x20,0x7e],[0xa0,0x2ff],[0x300,0x36f],[0x370,0x4ff],[0x590,0x6ff],[0x900,0x97f],[0xe00,0xe7f],[0x1100,0x11ff],[0x3040,0x30ff],[0x4e00,0x4fff],[0xac00,0xacff],[0x1f300,0x1f6ff],[0x2000,0x206f],[0xff00,0xffef]];
const ws = ["\n","\r\n","\t"," ","  ","\r","\u00a0","\u3000","\u2028"];
const strings = [];
for (let k = 0; k < 4000; ++k) {
  const n = 1 + Math.floor(rand() * 40);
  let s = "";
  for (let i = 0; i < n; ++i) {
    const r = rand();
    if (r < 0.15) s += ws[Math.floor(rand() * ws.length)];
    else if (r < 0.2) s += ["'s","'t","'re","'LL","'D","'m","'ve"][Math.floor(rand()*7)];
    else { const p = r < 0.6 ? pools[0] : pools[Math.floor(rand() * pools.length)]; const cp = p[0] + Math.floor(rand() * (p[1] - p[0] + 1)); if (cp >= 0xd800 && cp <= 0xdfff) continue; s += String.fromCodePoint(cp); }
  }
  strings.push(s);
}
for (const f of ["text/tinyshakespeare.txt", "text/wikitext-2-test.raw"]) for (const l of fs.readFileSync(data + f, "utf8").split("\n")) strings.push(l);
const q25 = rj("tokenizers/qwen2.5/tokenizer_config.json");
const toks = {
  "tokenizers/qwen2.5": [{ ...rj("tokenizers/qwen3/tokenizer.json"), added_tokens: Object.entries(q25.added_tokens_decoder).map(([id, t]) => ({ id: Number(id), ...t })) }, q25],
  "tokenizers/qwen3": [rj("tokenizers/qwen3/tokenizer.json"), rj("tokenizers/qwen3/tokenizer_config.json")],
  "tokenizers/llama3": [rj("tokenizers/llama3/tokenizer.json"), rj("tokenizers/llama3/tokenizer_config.json")],
  "models/stories260K": [rj("models/stories260K/tokenizer.json"), { ...rj("models/stories260K/tokenizer_config.json"), legacy: true }],
};
const out = { strings, ids: {} };
for (const [d, [j, c]] of Object.entries(toks)) {
  const t = TokenizerLoader.fromPreTrained({ tokenizerJSON: j, tokenizerConfig: c });
  out.ids[d] = strings.map((s) => Array.from(t.encode(s, { add_special_tokens: false })));
}
const outPath = process.argv[2] ?? "/tmp/qlm_tokenizer_fuzz.json";
fs.writeFileSync(outPath, JSON.stringify(out));
console.log(`${outPath}: ${strings.length} strings`);
