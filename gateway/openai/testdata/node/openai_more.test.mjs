// The official openai client against bizra's pass-through endpoints, error fidelity,
// the Responses API and the bizra model's parameters (driven by TestNodeClients).
import assert from "node:assert/strict";
import OpenAI from "openai";
import { env, expectedEmbeddings, run, weatherAnswer } from "./harness.mjs";

const { baseURL, apiKey } = env();
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });
const messages = [{ role: "user", content: "What is the weather in Paris?" }];

await run({
  async embeddings() {
    const r = await client.embeddings.create({ model: "emb", input: ["a", "b"], encoding_format: "float" });
    assert.equal(r.data.length, 2);
    assert.ok(expectedEmbeddings, "BIZRA_EXPECT_EMBEDDINGS is not set");
    assert.deepEqual(r.data.map((d) => d.embedding), expectedEmbeddings);
  },
  async completions() {
    const r = await client.completions.create({ model: "mock-small", prompt: "The weather is", max_tokens: 2 });
    assert.equal(r.choices[0].text, " sunny");
  },
  async completionsStreamed() {
    const s = await client.completions.create({ model: "mock-small", prompt: "The weather is", stream: true });
    let text = "";
    for await (const c of s) text += c.choices[0]?.text ?? "";
    assert.equal(text, " sunny");
  },
  async nPassesThrough() {
    const r = await client.chat.completions.create({ model: "mock-small", messages, n: 2 });
    assert.equal(r.choices.length, 2);
  },
  async modelById() {
    const m = await client.models.retrieve("bizra");
    assert.equal(m.id, "bizra");
    await assert.rejects(client.models.retrieve("no-such-model"), (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}`);
      assert.equal(err.code, "model_not_found");
      return true;
    });
  },
  async unknownRoute() {
    await assert.rejects(client.post("/audio/speech", { body: { model: "x" } }), (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}`);
      assert.equal(err.type, "invalid_request_error");
      return true;
    });
  },
  async upstream400Unchanged() {
    await assert.rejects(client.chat.completions.create({ model: "bad-tools", messages }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}`);
      assert.equal(err.param, "tools[0].function.parameters");
      assert.equal(err.code, "invalid_function_parameters");
      assert.match(err.message, /Invalid schema for function get_weather/);
      return true;
    });
  },
  async upstream429RetryAfter() {
    await assert.rejects(client.chat.completions.create({ model: "limited", messages }), (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}`);
      assert.equal(err.headers.get("retry-after"), "7");
      assert.equal(err.code, "rate_limit_exceeded");
      return true;
    });
  },
  async responsesTranslated() {
    const r = await client.responses.create({ model: "mock-small", input: "What is the weather?", instructions: "be brief" });
    assert.equal(r.output_text, weatherAnswer);
    assert.equal(r.status, "completed");
  },
  async responsesStreamed() {
    const s = await client.responses.create({ model: "mock-small", input: "What is the weather?", stream: true });
    const types = [];
    let text = "";
    for await (const ev of s) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") text += ev.delta;
    }
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    assert.equal(text, weatherAnswer);
  },
  async bizraMaxTokens() {
    const r = await client.chat.completions.create({
      model: "bizra", messages: [{ role: "user", content: "Why is the sky blue?" }], max_tokens: 8,
    });
    assert.equal(r.choices[0].finish_reason, "length");
    assert.ok(r.usage.completion_tokens <= 8, `completion_tokens ${r.usage.completion_tokens}`);
  },
  async bizraRefusesTools() {
    await assert.rejects(
      client.chat.completions.create({
        model: "bizra", messages,
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } }],
      }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}`);
        assert.equal(err.param, "tools");
        return true;
      },
    );
  },
});
