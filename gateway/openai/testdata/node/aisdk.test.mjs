// Vercel's ai + @ai-sdk/openai against bizra: the default provider openai("...")
// speaks the Responses API, which bizra translates to chat completions for a backend
// that lacks it: generateText, streamText, generateObject; and the bizra model
// (driven by TestNodeClients).
import assert from "node:assert/strict";
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject, generateText, streamText } from "ai";
import { z } from "zod";
import { env, run, structured, weatherAnswer } from "./harness.mjs";

const { baseURL, apiKey } = env();
const openai = createOpenAI({ baseURL, apiKey });

await run({
  async generateText() {
    const r = await generateText({ model: openai("mock-small"), prompt: "What is the weather in Paris?", maxRetries: 0 });
    assert.equal(r.text, weatherAnswer);
    assert.equal(r.finishReason, "stop");
    assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 0, JSON.stringify(r.usage));
  },
  async streamText() {
    const r = streamText({ model: openai("mock-small"), prompt: "What is the weather in Paris?", maxRetries: 0 });
    let text = "", parts = 0;
    for await (const t of r.textStream) { text += t; parts++; }
    assert.equal(text, weatherAnswer);
    assert.ok(parts > 1, `${parts} parts`);
  },
  async generateObject() {
    const r = await generateObject({
      model: openai("mock-small"), maxRetries: 0,
      schema: z.object({ city: z.string(), temperature_c: z.number() }),
      prompt: "Weather in Paris as an object",
    });
    assert.deepEqual(r.object, structured);
  },
  async bizraModel() {
    const r = await generateText({ model: openai("bizra"), prompt: "Why is the sky blue?", maxRetries: 0 });
    assert.match(r.text, /Rayleigh scattering/);
    const s = streamText({ model: openai("bizra"), prompt: "Why is the sky blue?", maxRetries: 0 });
    let text = "";
    for await (const t of s.textStream) text += t;
    assert.equal(text, r.text);
  },
  async chatProvider() {
    const r = await generateText({ model: openai.chat("mock-small"), prompt: "What is the weather?", maxRetries: 0 });
    assert.equal(r.text, weatherAnswer);
  },
});
