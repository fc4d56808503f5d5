// Differential check data (not committed): 4,000 seeded random strings plus every line of
// ../shared/data/text, with reference ids from @lenml/tokenizers for each tokenizer.
// Usage: node make_fuzz.mjs [/tmp/qlm_tokenizer_fuzz.json], then
//        qlm_tokenizer_compare /tmp/qlm_tokenizer_fuzz.json
import { TokenizerLoader } from "@lenml/tokenizers";
import fs from "fs";

const data = new URL("../../../shared/data/", import.meta.url).pathname;
const readJson = (p) => JSON.parse(fs.readFileSync(data + p, "utf8"));

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(777);
const pick = (list) => list[Math.floor(rand() * list.length)];

// Code point ranges: ASCII, Latin-1/extended, combining marks, Greek/Cyrillic, Hebrew/Arabic,
// Devanagari, Thai, Hangul jamo (NFC composes them), kana, CJK, Hangul syllables, emoji,
// general punctuation, fullwidth forms.
const ranges = [
  [0x20, 0x7e], [0xa0, 0x2ff], [0x300, 0x36f], [0x370, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f],
  [0xe00, 0xe7f], [0x1100, 0x11ff], [0x3040, 0x30ff], [0x4e00, 0x4fff], [0xac00, 0xacff],
  [0x1f300, 0x1f6ff], [0x2000, 0x206f], [0xff00, 0xffef],
];
const spaces = ["\n", "\r\n", "\t", " ", "  ", "\r", "\u00a0", "\u3000", "\u2028"];
const contractions = ["'s", "'t", "'re", "'LL", "'D", "'m", "'ve"];

const strings = [];
for (let k = 0; k < 4000; ++k) {
  const n = 1 + Math.floor(rand() * 40);
  let s = "";
  for (let i = 0; i < n; ++i) {
    const r = rand();
    if (r < 0.15) {
      s += pick(spaces);
    } else if (r < 0.2) {
      s += pick(contractions);
    } else {
      const [lo, hi] = r < 0.6 ? ranges[0] : pick(ranges);
      // U+2000..U+206F holds no surrogates; U+0085 and U+FEFF are outside every range.
      s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
    }
  }
  strings.push(s);
}
for (const file of ["text/tinyshakespeare.txt", "text/wikitext-2-test.raw"]) {
  strings.push(...fs.readFileSync(data + file, "utf8").split("\n"));
}

const qwen25Config = readJson("tokenizers/qwen2.5/tokenizer_config.json");
const tokenizers = {
  "tokenizers/qwen2.5": [
    {
      ...readJson("tokenizers/qwen3/tokenizer.json"),
      added_tokens: Object.entries(qwen25Config.added_tokens_decoder).map(([id, t]) => ({ id: Number(id), ...t })),
    },
    qwen25Config,
  ],
  "tokenizers/qwen3": [readJson("tokenizers/qwen3/tokenizer.json"), readJson("tokenizers/qwen3/tokenizer_config.json")],
  "tokenizers/llama3": [readJson("tokenizers/llama3/tokenizer.json"), readJson("tokenizers/llama3/tokenizer_config.json")],
  "models/stories260K": [
    readJson("models/stories260K/tokenizer.json"),
    { ...readJson("models/stories260K/tokenizer_config.json"), legacy: true },
  ],
};

const out = { strings, ids: {} };
for (const [dir, [tokenizerJSON, tokenizerConfig]] of Object.entries(tokenizers)) {
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  out.ids[dir] = strings.map((s) => Array.from(tok.encode(s, { add_special_tokens: false })));
}
const outPath = process.argv[2] ?? "/tmp/qlm_tokenizer_fuzz.json";
fs.writeFileSync(outPath, JSON.stringify(out));
console.log(`${outPath}: ${strings.length} strings`);
