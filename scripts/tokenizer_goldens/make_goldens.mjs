// Produces tests/tokenizer/golden/<name>.json: reference token ids from @lenml/tokenizers
// (the JavaScript port of Hugging Face tokenizers) for the shared test corpus.
// Usage: cd scripts/tokenizer_goldens && npm install && node make_goldens.mjs
// Corpus lines from ../shared/data/text are stored by file + line, never copied.
import { TokenizerLoader } from "@lenml/tokenizers";
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";
import { handWritten, randomMixtures, specialStrings } from "./corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const data = path.resolve(repo, "../shared/data");
const outDir = path.join(repo, "tests/tokenizer/golden");
const readJson = (p) => JSON.parse(fs.readFileSync(path.join(data, p), "utf8"));
const refVersion = JSON.parse(fs.readFileSync(path.join(here, "node_modules/@lenml/tokenizers/package.json"))).version;

// Lines as the C++ test reads them: split on "\n" only (wikitext keeps its "\r").
const texts = {};
for (const f of ["text/tinyshakespeare.txt", "text/wikitext-2-test.raw"]) {
  texts[f] = fs.readFileSync(path.join(data, f), "utf8").split("\n");
}
// Evenly spaced non-empty single lines, plus multi-line chunks (newline handling).
function fileCases() {
  const cases = [];
  for (const [file, singles, chunks] of [["text/tinyshakespeare.txt", 180, 30], ["text/wikitext-2-test.raw", 150, 30]]) {
    const lines = texts[file];
    for (let k = 0; k < singles; ++k) {
      let i = Math.floor((k * lines.length) / singles);
      while (i < lines.length - 1 && lines[i].length === 0) ++i;
      cases.push({ file, line: i + 1, count: 1 });
    }
    for (let k = 0; k < chunks; ++k) {
      const i = Math.floor(((k + 0.5) * (lines.length - 8)) / chunks);
      cases.push({ file, line: i + 1, count: 2 + (k % 6) });
    }
  }
  return cases;
}
const caseText = (c) => ("text" in c ? c.text : texts[c.file].slice(c.line - 1, c.line - 1 + c.count).join("\n"));

// Each tokenizer as Hugging Face's fast tokenizer sees it.
const qwen25Config = readJson("tokenizers/qwen2.5/tokenizer_config.json");
const tokenizers = {
  // vocab.json + merges.txt folder: the Qwen3 tokenizer.json has the same vocab, merges,
  // normalizer and split rule; its added tokens are replaced by Qwen2.5's.
  "qwen2.5": {
    dir: "tokenizers/qwen2.5",
    json: () => ({
      ...readJson("tokenizers/qwen3/tokenizer.json"),
      added_tokens: Object.entries(qwen25Config.added_tokens_decoder).map(([id, t]) => ({ id: Number(id), ...t })),
    }),
    config: () => qwen25Config,
  },
  qwen3: { dir: "tokenizers/qwen3", json: () => readJson("tokenizers/qwen3/tokenizer.json"), config: () => readJson("tokenizers/qwen3/tokenizer_config.json") },
  llama3: { dir: "tokenizers/llama3", json: () => readJson("tokenizers/llama3/tokenizer.json"), config: () => readJson("tokenizers/llama3/tokenizer_config.json") },
  // legacy: true makes transformers.js run tokenizer.json's own normalizer (Prepend "▁" to
  // every text segment), as HF's fast tokenizer does; legacy: false would emulate the slow
  // SentencePiece LlamaTokenizer instead.
  stories260K: {
    dir: "models/stories260K",
    json: () => readJson("models/stories260K/tokenizer.json"),
    config: () => ({ ...readJson("models/stories260K/tokenizer_config.json"), legacy: true }),
  },
};

fs.mkdirSync(outDir, { recursive: true });
for (const [name, t] of Object.entries(tokenizers)) {
  const json = t.json();
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: t.config() });
  // With special tokens treated as text: the same tokenizer without its special added tokens.
  const plainJson = { ...json, added_tokens: json.added_tokens.filter((a) => !a.special) };
  const plainTok = TokenizerLoader.fromPreTrained({ tokenizerJSON: plainJson, tokenizerConfig: t.config() });
  const encode = (tk, s) => Array.from(tk.encode(s, { add_special_tokens: false }));

  const cases = [...fileCases(), ...handWritten.map((text) => ({ text })), ...randomMixtures.map((text) => ({ text }))].map((c) => ({ ...c, ids: encode(tok, caseText(c)) }));
  const plain = specialStrings.map((text) => ({ text, ids: encode(plainTok, text) }));
  const golden = {
    reference: `@lenml/tokenizers ${refVersion} (node ${process.version}), encode(text, {add_special_tokens: false})`,
    tokenizer: t.dir,
    cases,
    plain_cases: plain,
  };
  const out = path.join(outDir, `${name}.json`);
  // One case per line keeps diffs readable.
  const body = (list) => list.map((c) => "    " + JSON.stringify(c)).join(",\n");
  fs.writeFileSync(out, `{\n  "reference": ${JSON.stringify(golden.reference)},\n  "tokenizer": ${JSON.stringify(golden.tokenizer)},\n` +
    `  "cases": [\n${body(cases)}\n  ],\n  "plain_cases": [\n${body(plain)}\n  ]\n}\n`);
  console.log(`${out}: ${cases.length} cases, ${plain.length} plain cases`);
}
// Variants of stories260K's tokenizer.json for features no shipped tokenizer uses; the C++
// test applies the same overrides to a temporary copy of the file.
const variants = [
  {
    // lstrip / rstrip added tokens.
    name: "stories260K_strip",
    added_token_overrides: { "<s>": { lstrip: true }, "</s>": { rstrip: true } },
    cases: [
      "a <s> b", "a   <s>", "</s>   b", "x\t\n<s>\n y", "<s> </s>", "  <s>  </s>  ", "a</s> b <s>c", "</s>", " <s>",
      "Once upon a time </s> \n <s> there was", "<s><s> </s></s>", "no tokens here", "", "   ", "a \u00a0<s>",
    ].map((text) => ({ text })),
  },
  {
    // The non-legacy Llama / Mistral layout: no normalizer, a Metaspace pre-tokenizer that
    // prepends "▁" only at the start of the input, and a Metaspace decoder.
    // (transformers.js reads the older add_prefix_space flag, so it is set as well.)
    name: "stories260K_metaspace",
    tokenizer_json_overrides: {
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true, prepend_scheme: "first", split: false },
      decoder: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true, prepend_scheme: "first", split: false },
    },
    decode: true,
    cases: [...fileCases().filter((c, i) => i % 6 === 0), ...handWritten.map((text) => ({ text })), ...randomMixtures.map((text) => ({ text }))],
  },
];
for (const v of variants) {
  const json = { ...tokenizers.stories260K.json(), ...(v.tokenizer_json_overrides ?? {}) };
  json.added_tokens = json.added_tokens.map((a) => ({ ...a, ...(v.added_token_overrides?.[a.content] ?? {}) }));
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: tokenizers.stories260K.config() });
  const cases = v.cases.map((c) => {
    const ids = Array.from(tok.encode(caseText(c), { add_special_tokens: false }));
    const decoded = !v.decode ? {} : { decoded: ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) };
    return { ...c, ids, ...decoded };
  });
  const out = path.join(outDir, `${v.name}.json`);
  const header = { reference: `@lenml/tokenizers ${refVersion} (node ${process.version}), encode(text, {add_special_tokens: false})` +
      (v.decode ? ", decode(ids, {skip_special_tokens: false, clean_up_tokenization_spaces: false})" : ""),
    tokenizer: tokenizers.stories260K.dir };
  if (v.added_token_overrides) header.added_token_overrides = v.added_token_overrides;
  if (v.tokenizer_json_overrides) header.tokenizer_json_overrides = v.tokenizer_json_overrides;
  const head = JSON.stringify(header, null, 2).slice(0, -2);
  fs.writeFileSync(out, `${head},\n  "cases": [\n${cases.map((c) => "    " + JSON.stringify(c)).join(",\n")}\n  ]\n}\n`);
  console.log(`${out}: ${cases.length} cases`);
}
