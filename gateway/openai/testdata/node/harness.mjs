// Shared by the client tests: runs named async checks, prints "pass NAME" or
// "FAIL NAME: ..." for each and "ok N of M", and exits 0 only when all pass.
export function env() {
  const baseURL = process.env.BIZRA_BASE_URL;
  const apiKey = process.env.BIZRA_API_KEY;
  if (!baseURL || !apiKey) {
    console.error("BIZRA_BASE_URL and BIZRA_API_KEY are required");
    process.exit(2);
  }
  return { baseURL, apiKey };
}

export async function run(checks) {
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
}

// Answers of the Go test's tool-capable mock backend (mockllm as clientEnv in
// gateway/openai/node_clients_test.go sets it up).
export const weatherAnswer = "It is sunny in Paris today.";
export const structured = { city: "Paris", temperature_c: 21 };
// The mock's embeddings of "a" and "b" (mockllm.Embed), passed by the Go test.
export const expectedEmbeddings = JSON.parse(process.env.BIZRA_EXPECT_EMBEDDINGS ?? "null");
