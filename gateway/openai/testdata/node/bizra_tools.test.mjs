// The bizra model with tools and structured output through a tool-capable backend
// (BackendConfig.Tools): LangChain's bindTools with a tool round trip and
// withStructuredOutput, the AI SDK's generateObject on chat completions, and the
// official client seeing the bizra extension (driven by TestNodeClientsBizraTools).
import assert from "node:assert/strict";
import OpenAI from "openai";
import { ChatOpenAI } from "@langchain/openai";
import { tool } from "@langchain/core/tools";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject } from "ai";
import { z } from "zod";
import { env, run, structured, weatherAnswer } from "./harness.mjs";

const { baseURL, apiKey } = env();
const chat = (model) => new ChatOpenAI({ model, apiKey, maxRetries: 0, timeout: 20000, configuration: { baseURL } });
const getWeather = tool(async ({ city }) => `sunny in ${city}`, {
  name: "get_weather",
  description: "The weather in a city",
  schema: z.object({ city: z.string() }),
});
const schema = z.object({ city: z.string(), temperature_c: z.number() });

await run({
  async langchainBindTools() {
    const m = chat("bizra").bindTools([getWeather]);
    const q = new HumanMessage("What is the weather in Paris?");
    const r = await m.invoke([q]);
    assert.equal(r.tool_calls.length, 1);
    assert.equal(r.tool_calls[0].name, "get_weather");
    assert.deepEqual(r.tool_calls[0].args, { city: "Paris" });
    const answer = await getWeather.invoke(r.tool_calls[0].args);
    const r2 = await m.invoke([q, r, new ToolMessage({ content: answer, tool_call_id: r.tool_calls[0].id })]);
    assert.equal(r2.content, weatherAnswer);
  },
  async langchainStructuredOutput() {
    const r = await chat("bizra").withStructuredOutput(schema, { name: "weather", method: "jsonSchema" }).invoke("Weather in Paris?");
    assert.deepEqual(r, structured);
  },
  async aisdkGenerateObject() {
    const openai = createOpenAI({ baseURL, apiKey });
    const r = await generateObject({ model: openai.chat("bizra"), maxRetries: 0, schema, prompt: "Weather in Paris as an object" });
    assert.deepEqual(r.object, structured);
  },
  async openaiClientSeesExtension() {
    const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: "bizra", messages: [{ role: "user", content: "What is the weather in Paris?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
    });
    assert.equal(r.model, "bizra");
    assert.equal(r.choices[0].message.tool_calls[0].function.name, "get_weather");
    assert.ok(r.bizra && r.bizra.sources.length > 0, "no bizra extension with sources");
    assert.match(r.bizra.receipt.receipt_id, /^qr-\d{13}-[0-9a-f]{16}$/);
  },
});
