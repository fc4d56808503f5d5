// Drives a running `qlm serve` with the official openai npm client: completions, chat,
// streaming (both) and n > 1; prints one JSON object with what it got, for the pytest side
// to compare with its oracles. Usage: node openai_client.mjs BASE_URL MODEL
import OpenAI from "openai";
import assert from "node:assert/strict";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: "unused", maxRetries: 0 });
const out = {};

const prompt = "Once upon a time";
const plain = await client.completions.create({ model, prompt, max_tokens: 10, temperature: 0 });
out.completion = plain.choices[0].text;
out.completion_usage = plain.usage;

let streamed = "";
for await (const chunk of await client.completions.create({ model, prompt, max_tokens: 10, temperature: 0, stream: true }))
  streamed += chunk.choices[0]?.text ?? "";
out.completion_streamed = streamed;

const messages = [{ role: "user", content: "Write a haiku" }];
const chat = await client.chat.completions.create({ model, messages, max_tokens: 10, temperature: 0 });
out.chat = chat.choices[0].message.content;
assert.equal(chat.choices[0].message.role, "assistant");

let chatStreamed = "";
let roles = 0;
const stream = await client.chat.completions.create({
  model, messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  if (chunk.usage) out.chat_stream_usage = chunk.usage;
  for (const c of chunk.choices) {
    if (c.delta.role) roles += 1;
    chatStreamed += c.delta.content ?? "";
  }
}
out.chat_streamed = chatStreamed;
out.chat_stream_roles = roles;
out.chat_usage = chat.usage;

const sampled = { model, prompt, max_tokens: 8, temperature: 0.9, n: 3, seed: 5 };
const a = await client.completions.create(sampled);
const b = await client.completions.create(sampled);
out.n_texts = a.choices.map((c) => c.text);
out.n_repeat = b.choices.map((c) => c.text);
out.n_indices = a.choices.map((c) => c.index);

try {
  await client.completions.create({ model, prompt, max_tokens: -1 });
  out.error = "no error";
} catch (e) {
  out.error = { status: e.status, param: e.param, type: e.type };
}
console.log(JSON.stringify(out));
