// The official openai client against a live bizra gateway (started by the Go test
// TestNodeOpenAIClient, which passes BIZRA_BASE_URL, BIZRA_API_KEY and BIZRA_MODEL).
// Prints "ok N of 5" and exits 0 when every check passes, else exits 1.
import assert from "node:assert/strict";
import OpenAI from "openai";

const baseURL = process.env.BIZRA_BASE_URL;
const apiKey = process.env.BIZRA_API_KEY;
const model = process.env.BIZRA_MODEL;
if (!baseURL || !apiKey || !model) {
  console.error("BIZRA_BASE_URL, BIZRA_API_KEY and BIZRA_MODEL are required");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });
const messages = [
  { role: "system", content: "be brief" },
  { role: "user", content: "[doc.md] Rayleigh scattering makes the sky blue. More." },
];
const expected = "Rayleigh scattering makes the sky blue [doc.md].";

const checks = {
  async plain() {
    const r = await client.chat.completions.create({ model, messages, max_tokens: 64 });
    assert.equal(r.object, "chat.completion");
    assert.equal(r.choices[0].message.content, expected);
    assert.ok(r.usage.total_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  },
  async streamed() {
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    let text = "", first = -1, n = 0;
    for await (const chunk of stream) {
      if (first < 0) first = performance.now() - t0;
      n++;
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    const total = performance.now() - t0;
    assert.equal(text, expected);
    assert.ok(n >= 5, `only ${n} chunks`);
    // the mock pauses between tokens: the first chunk must come well before the end
    assert.ok(first < total / 2, `first chunk at ${first.toFixed(1)} ms of ${total.toFixed(1)} ms`);
  },
  async bizra() {
    const r = await client.chat.completions.create({
      model: "bizra",
      messages: [{ role: "user", content: "Why is the sky blue?" }],
    });
    assert.equal(r.model, "bizra");
    assert.ok(r.choices[0].message.content.length > 0);
    assert.ok(r.bizra, "no bizra extension");
    assert.equal(r.bizra.usage_estimated, true);
    assert.ok(typeof r.bizra.scores.snr === "number");
    assert.ok(r.bizra.sources.length > 0);
    assert.match(r.bizra.receipt.receipt_id, /^qr-\d{13}-[0-9a-f]{16}$/);
  },
  async unknownModel() {
    await assert.rejects(
      client.chat.completions.create({ model: "no-such-model", messages }),
      (err) => {
        assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}`);
        assert.equal(err.status, 404);
        assert.equal(err.code, "model_not_found");
        return true;
      },
    );
  },
  async badKey() {
    const bad = new OpenAI({ baseURL, apiKey: "wrong-key", maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model, messages }), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}`);
      assert.equal(err.status, 401);
      assert.equal(err.code, "invalid_api_key");
      return true;
    });
  },
};

let ok = 0;
for (const [name, fn] of Object.entries(checks)) {
  try {
    await fn();
    ok++;
    console.log(`pass ${name}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err?.stack ?? err}`);
  }
}
const n = Object.keys(checks).length;
console.log(`ok ${ok} of ${n}`);
process.exit(ok === n ? 0 : 1);
