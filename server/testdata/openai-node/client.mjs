// client.mjs drives genquorum serve with the official OpenAI Node client (package "openai",
// version pinned in package.json): completions, streamed completions, chat, streamed chat,
// stop strings and the model list, each with a model name the server does not have.
//
//   node client.mjs http://127.0.0.1:8080 [record.json]
//
// It prints one JSON object with what the client returned and exits 1 when a check fails.
// With a second argument it also writes the exact HTTP requests the client sent (method,
// path, the headers that describe the body, body) to that file: server/openai_node_test.go
// replays them.
import fs from "node:fs";
import OpenAI from "openai";

const base = process.argv[2];
const recordTo = process.argv[3];
if (!base) {
  console.error("usage: node client.mjs BASE_URL [record.json]");
  process.exit(2);
}

const sent = [];
const recordingFetch = async (url, init = {}) => {
  const u = new URL(url);
  const headers = new Headers(init.headers);
  sent.push({
    method: init.method ?? "GET",
    path: u.pathname + u.search,
    headers: { "content-type": headers.get("content-type"), accept: headers.get("accept") },
    body: typeof init.body === "string" ? init.body : null,
  });
  return fetch(url, init);
};

const client = new OpenAI({ baseURL: base + "/v1", apiKey: "not-checked", fetch: recordingFetch, maxRetries: 0, timeout: 60_000 });
const out = {};
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const prompt = "In the beginning";
const c = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt, max_tokens: 5, temperature: 0 });
out.completion = { text: c.choices[0].text, finish_reason: c.choices[0].finish_reason, model: c.model, usage: c.usage };

const cs = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt, max_tokens: 5, temperature: 0, stop: [" return"] });
out.completion_stop = { text: cs.choices[0].text, finish_reason: cs.choices[0].finish_reason };

let streamed = "", streamFinish = null, chunks = 0;
for await (const ev of await client.completions.create({ model: "davinci-002", prompt, max_tokens: 5, temperature: 0, stream: true })) {
  chunks++;
  streamed += ev.choices[0]?.text ?? "";
  if (ev.choices[0]?.finish_reason) streamFinish = ev.choices[0].finish_reason;
}
out.completion_stream = { text: streamed, finish_reason: streamFinish, chunks };

const messages = [{ role: "system", content: "You are terse." }, { role: "user", content: "Say something." }];
const ch = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 6, temperature: 0 });
out.chat = { content: ch.choices[0].message.content, role: ch.choices[0].message.role, finish_reason: ch.choices[0].finish_reason, model: ch.model };

let chatStreamed = "", chatFinish = null, chatChunks = 0;
for await (const ev of await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 6, temperature: 0, stream: true })) {
  chatChunks++;
  chatStreamed += ev.choices[0]?.delta?.content ?? "";
  if (ev.choices[0]?.finish_reason) chatFinish = ev.choices[0].finish_reason;
}
out.chat_stream = { content: chatStreamed, finish_reason: chatFinish, chunks: chatChunks };

const stopWord = ch.choices[0].message.content.slice(2, 4);
const chs = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 6, temperature: 0, stop: stopWord });
out.chat_stop = { stop: stopWord, content: chs.choices[0].message.content, finish_reason: chs.choices[0].finish_reason };

const models = [];
for await (const m of client.models.list()) models.push(m.id);
out.models = models;

check(c.choices[0].text.length > 0 && c.choices[0].finish_reason === "length", "completion: text and finish_reason length");
check(cs.choices[0].text === c.choices[0].text.split(" return")[0] && cs.choices[0].finish_reason === "stop", "completion stop: cut before the stop string, finish_reason stop");
check(streamed === c.choices[0].text && streamFinish === "length" && chunks > 1, "completion stream: same text in several chunks");
check(ch.choices[0].message.role === "assistant" && ch.choices[0].message.content.length > 0, "chat: assistant message");
check(chatStreamed === ch.choices[0].message.content && chatFinish === ch.choices[0].finish_reason && chatChunks > 1, "chat stream: same content");
check(chs.choices[0].message.content === ch.choices[0].message.content.slice(0, 2) && chs.choices[0].finish_reason === "stop", "chat stop: cut, finish_reason stop");
check(models.length === 1, "models: one");

out.failures = failures;
if (recordTo) fs.writeFileSync(recordTo, JSON.stringify(sent, null, 2) + "\n");
console.log(JSON.stringify(out, null, 2));
process.exit(failures.length ? 1 : 0);
