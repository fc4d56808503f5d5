// Hand-written tokenizer test strings: code, numbers, emoji, scripts, whitespace, special
// tokens, normalization cases. Avoids U+0085 and U+FEFF, where JavaScript's \s differs
// from the Oniguruma regex engine that Hugging Face tokenizers uses.

const specials = [
  "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
  "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
  "<|endoftext|>",
  "text<|endoftext|>more text",
  "<|im_start|><|im_end|>",
  "<|im_start",
  "<|im_start|",
  "im_start|>",
  "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
  "<think>\nLet me think.\n</think>\n\nAnswer.",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<|reserved_special_token_5|>",
  "<s>Once upon a time</s>",
  "hi<s>there",
  "hi <s> there </s> end",
  "<unk>",
  "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
  " <|im_end|> ",
  "<<|im_end|>>",
];

const code = [
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
  "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
  "#include <stdio.h>\nint main(void) { printf(\"hello, world\\n\"); return 0; }",
  "const x = {a: 1, b: [2, 3], 'c': null};  // comment",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
  "<div class=\"container\"><p>Hello &amp; welcome</p></div>",
  "if x == y and not z:\r\n    pass\r\n",
  "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
  "$ ls -la /usr/local/bin | grep -E '^d' && echo \"done\"",
  "{\"key\": \"value\", \"list\": [1, 2.5, -3e10, true, false, null]}",
  "    indented with four spaces",
  "\t\ttwo tabs",
  "x=1;y=2;z=x+y",
  "a->b::c.d[e]",
  "lambda x: x**2 // 3 % 4",
  "https://www.example.com/path/to/page?query=1&other=two#anchor",
  "user.name+tag@example.co.uk",
  "C:\\Users\\Admin\\Documents\\file.txt",
  "// TODO(someone): fix this!!!",
  "```python\nprint('hi')\n```",
];

const numbers = [
  "0", "1", "12", "123", "1234", "12345", "123456", "1234567890",
  "3.14159265358979", "-42", "+7", "1,000,000", "1.000.000,50", "1e-9", "0x1F", "0b1011",
  "2024-01-15", "12:34:56", "$19.99", "€5", "100%", "½ ¼ ¾", "٠١٢٣٤٥", "१२३", "１２３",
  "The year 1999 and 2000.", "Call 555-0123 now", "v1.2.3-beta.4", "IPv4 192.168.0.1",
  "Pi is approximately 3.14, e is 2.718.",
];

const scripts = [
  "你好，世界！", "我爱自然语言处理。", "日本語のテキストです。カタカナとひらがな。", "한국어 문장입니다.",
  "Привет, мир!", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
  "Xin chào thế giới", "Zażółć gęślą jaźń", "Ærøskøbing Ødegård Åland", "Straße Größe",
  "façade naïve résumé coöperate", "English and 中文 mixed with русский and العربية.",
  "Tiếng Việt có dấu", "ქართული ენა", "Հայերեն", "ภาษาไทย",
  "漢字かな交じり文", "中文句子，标点符号：“引号”、《书名号》。",
];

const emoji = [
  "😀", "😀😃😄", "Hello 👋 world 🌍!", "👨‍👩‍👧‍👦 family", "🇫🇷🇩🇪🇯🇵", "👍🏽 thumbs",
  "❤️ heart", "🤖🧠💡", "★☆✓✗→←↑↓", "∑∫∂√∞≈≠≤≥", "©®™", "🏳️‍🌈",
];

const whitespace = [
  "", " ", "  ", "   ", "    ", "          ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n",
  "\r", " \n ", "a\n", "\na", "a  b", "a   b", "a\tb", "a \t b", "a\n\nb", "a \n\n b", "trailing   ",
  "   leading", " \t\n\r ", "a\u00a0b", "a\u3000b", "a\u2003b", "\u2028", "x\u2029y", "\f", "\v",
  "word\n    indented\n\ttabbed\n", "end with newline\n", "multiple   spaces   between   words",
];

const words = [
  "Hello world", "hello world", "HELLO WORLD", "Hello, world!", "I'm here", "You're right", "DON'T STOP",
  "they'll've", "it's", "She'S", "we'VE", "'s", "''", "'quoted'", "\"double quoted\"",
  "The quick brown fox jumps over the lazy dog.", "supercalifragilisticexpialidocious",
  "antidisestablishmentarianism", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "!!!!!!!!", "??!", "...", "----------",
  "======", "a.b.c.d", "e.g. i.e. etc.", "Mr. Smith went to Washington.", "U.S.A.", "don't", "O'Reilly",
  "rock'n'roll", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "camelCaseWord", "snake_case_word",
  "kebab-case-word", "ALLCAPS", "MiXeD CaSe", "Once upon a time, there was a little girl named Lily.",
  "She liked to play outside in the sun.", "Tom and Sam were best friends.",
];

// NFC: decomposed forms must compose (Qwen) or pass through unchanged (Llama-3).
const normalization = [
  "e\u0301", "cafe\u0301", "A\u030a", "\u212b", "\u1100\u1161\u11a8", "n\u0303o", "o\u0308\u0304",
  "\u0041\u0323\u0307", "\u1e9b\u0323", "ﬁ ligature", "Ⅻ", "㍿", "x\u0301\u0301\u0301",
];

export const handWritten = [...specials, ...code, ...numbers, ...scripts, ...emoji, ...whitespace, ...words, ...normalization];
export const specialStrings = specials;

// Seeded random mixtures of the character classes the split regexes distinguish (letters,
// digits, punctuation, each kind of whitespace, marks, CJK, emoji, apostrophes), to probe
// regex edge cases nobody would write by hand.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const atoms = [
  "a", "Z", "é", "ß", "Ω", "ж", "字", "の", "한", "ا", "א", "7", "42", "٣", "½", "Ⅳ", ".", ",", "!", "?", "-", "_",
  "'", "'s", "'LL", "'re", "\"", "(", ")", "#", "@", "$", "€", "+", "=", "/", "\\", "|", "~", "`", "^",
  " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\u00a0", "\u3000", "\u2009", "\u202f", "\u2028",
  "\u0301", "\u0308", "😀", "👍🏽", "🇯🇵", "\u200d", "\u200b", "→", "∑", "<", ">", "|", "<|", "|>", "im", "start",
];
const rand = mulberry32(20261127);
export const randomMixtures = Array.from({ length: 150 }, () => {
  const n = 1 + Math.floor(rand() * 24);
  let s = "";
  for (let i = 0; i < n; ++i) s += atoms[Math.floor(rand() * atoms.length)];
  return s;
});
