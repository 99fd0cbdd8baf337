package openai

import (
	"context"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference"
)

// instantForward answers every Forward at once with a fixed body: what remains is the
// front's own cost.
type instantForward struct{ body []byte }

func (f instantForward) Forward(ctx context.Context, req ForwardRequest) (ForwardResponse, error) {
	return ForwardResponse{Status: 200, ContentType: "application/json", Body: f.body, Backend: "b",
		Usage: inference.Usage{PromptTokens: 5, CompletionTokens: 5, Reported: true}}, nil
}

func (f instantForward) OpenForwardStream(ctx context.Context, req ForwardRequest) (ForwardStream, error) {
	return nil, ErrInternal
}

// BenchmarkFrontForward is the front's cost per pass-through request on the handler
// goroutine (decode, headers, Forward call, response), without the network and the
// backend: go test -run '^$' -bench BenchmarkFrontForward -benchmem ./gateway/openai
func BenchmarkFrontForward(b *testing.B) {
	chatAnswer := []byte(`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"It is sunny."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}`)
	r, err := New(Options{Forward: instantForward{body: chatAnswer}})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, body string
		serve      func(ctx *fasthttp.RequestCtx)
	}{
		{"embeddings", `{"model":"emb","input":"The sky is blue because of Rayleigh scattering."}`, func(ctx *fasthttp.RequestCtx) { r.Embeddings(ctx, "") }},
		{"chat", benchBody, func(ctx *fasthttp.RequestCtx) { r.ChatCompletions(ctx, "") }},
		{"responses-native", `{"model":"m","input":"What is the weather?","instructions":"be brief"}`, func(ctx *fasthttp.RequestCtx) { r.Responses(ctx, "") }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var ctx fasthttp.RequestCtx
			for b.Loop() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.Header.SetMethod(fasthttp.MethodPost)
				ctx.Request.SetBodyString(c.body)
				c.serve(&ctx)
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}
