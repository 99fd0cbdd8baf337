// @langchain/openai against bizra: plain and streamed chat, tools through the
// tool-capable mock (bindTools), structured output (withStructuredOutput), and the
// bizra model's refusal of tools (driven by TestNodeClients).
import assert from "node:assert/strict";
import { ChatOpenAI } from "@langchain/openai";
import { tool } from "@langchain/core/tools";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { z } from "zod";
import { env, run, structured, weatherAnswer } from "./harness.mjs";

const { baseURL, apiKey } = env();
const chat = (model) => new ChatOpenAI({ model, apiKey, maxRetries: 0, timeout: 20000, configuration: { baseURL } });

const getWeather = tool(async ({ city }) => `sunny in ${city}`, {
  name: "get_weather",
  description: "The weather in a city",
  schema: z.object({ city: z.string() }),
});

await run({
  async invoke() {
    const r = await chat("mock-small").invoke("What is the weather in Paris?");
    assert.equal(r.content, weatherAnswer);
  },
  async stream() {
    let text = "";
    for await (const c of await chat("mock-small").stream("What is the weather in Paris?")) text += c.content;
    assert.equal(text, weatherAnswer);
  },
  async bindTools() {
    const m = chat("mock-small").bindTools([getWeather]);
    const q = new HumanMessage("What is the weather in Paris?");
    const r = await m.invoke([q]);
    assert.equal(r.tool_calls.length, 1);
    assert.equal(r.tool_calls[0].name, "get_weather");
    assert.deepEqual(r.tool_calls[0].args, { city: "Paris" });
    const answer = await getWeather.invoke(r.tool_calls[0].args);
    const r2 = await m.invoke([q, r, new ToolMessage({ content: answer, tool_call_id: r.tool_calls[0].id })]);
    assert.equal(r2.content, weatherAnswer);
  },
  async structuredOutput() {
    const schema = z.object({ city: z.string(), temperature_c: z.number() });
    for (const method of ["jsonSchema", "functionCalling"]) {
      const r = await chat("mock-small").withStructuredOutput(schema, { name: "weather", method }).invoke("Weather in Paris?");
      assert.deepEqual(r, structured, method);
    }
  },
  async bizraRefusesTools() {
    await assert.rejects(chat("bizra").bindTools([getWeather]).invoke("What is the weather?"), (err) => {
      assert.equal(err.status ?? err.lc_error_code, 400);
      assert.match(String(err.message), /tools/);
      return true;
    });
  },
});
