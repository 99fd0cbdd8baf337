package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

func (s *Server) handleArtifact(rc *reqCtx) {
	if s.opts.Routes.Artifacts == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	b, ok := s.opts.Routes.Artifacts(rc.param)
	if !ok {
		s.fail(rc, withDetail(ErrNotFound, "no artifact for that query id (unknown or evicted)"))
		return
	}
	s.writeRaw(rc, fasthttp.StatusOK, b)
}

func (s *Server) handleEpisodes(rc *reqCtx) {
	l := s.opts.Routes.Ledger
	if l == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	limit, err := intArg(rc, "limit", 50, 1, 200)
	if err != nil {
		s.fail(rc, err)
		return
	}
	offset, err := intArg(rc, "offset", 0, 0, 1<<31-1)
	if err != nil {
		s.fail(rc, err)
		return
	}
	v, err := l.Episodes(limit, offset)
	s.reply(rc, v, err)
}

func (s *Server) handleEpisode(rc *reqCtx) {
	if s.opts.Routes.Ledger == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	v, err := s.opts.Routes.Ledger.Episode(rc.param)
	s.reply(rc, v, err)
}

func (s *Server) handleRetrieve(rc *reqCtx) {
	if s.opts.Routes.Ledger == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	var body struct {
		Query *string `json:"query"`
		TopK  *int    `json:"top_k"`
	}
	if err := json.Unmarshal(rc.PostBody(), &body); err != nil {
		s.fail(rc, withDetail(ErrInvalidJSON, "expected {query, top_k}"))
		return
	}
	if body.Query == nil || len(bytes.TrimSpace([]byte(*body.Query))) == 0 || len(*body.Query) > 10000 {
		s.fail(rc, withDetail(ErrInvalidRequest, "query: required, 1..10000 characters"))
		return
	}
	k := 5
	if body.TopK != nil {
		k = *body.TopK
	}
	if k < 1 || k > 100 {
		s.fail(rc, withDetail(ErrInvalidRequest, "top_k: must be 1..100"))
		return
	}
	v, err := s.opts.Routes.Ledger.Retrieve(*body.Query, k)
	s.reply(rc, v, err)
}

func (s *Server) handleSELVerify(rc *reqCtx) {
	if s.opts.Routes.Ledger == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	s.writeJSON(rc, fasthttp.StatusOK, s.opts.Routes.Ledger.Verify())
}

func (s *Server) handleReceipt(rc *reqCtx) {
	if s.opts.Routes.Receipts == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	b, err := s.opts.Routes.Receipts.Receipt(rc.param)
	if err != nil {
		s.fail(rc, err)
		return
	}
	s.writeRaw(rc, fasthttp.StatusOK, b)
}

func (s *Server) handleVerifyReceipt(rc *reqCtx) {
	if s.opts.Routes.Receipts == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	if !json.Valid(rc.PostBody()) {
		s.fail(rc, withDetail(ErrInvalidJSON, "expected a receipt JSON object"))
		return
	}
	s.writeJSON(rc, fasthttp.StatusOK, s.opts.Routes.Receipts.VerifyReceipt(append([]byte(nil), rc.PostBody()...)))
}

func (s *Server) handleVerifyGenesis(rc *reqCtx) {
	if s.opts.Routes.Genesis == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	// An empty body checks the state folder's files; anything else must be JSON.
	if body := rc.PostBody(); len(body) > 0 && !json.Valid(body) {
		s.fail(rc, withDetail(ErrInvalidJSON, "expected a genesis JSON document (or no body, to check this node's files)"))
		return
	}
	v, err := s.opts.Routes.Genesis.VerifyGenesis(append([]byte(nil), rc.PostBody()...))
	s.reply(rc, v, err)
}

func (s *Server) handleGenesisHeader(rc *reqCtx) {
	if s.opts.Routes.Genesis == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	doc, valid := s.opts.Routes.Genesis.GenesisHeader()
	status := fasthttp.StatusOK
	if !valid {
		status = fasthttp.StatusServiceUnavailable
	}
	s.writeJSON(rc, status, doc)
}

func (s *Server) handleSkills(rc *reqCtx) {
	if s.opts.Routes.Skills == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := s.opts.Routes.Skills.ListSkills(ctx, string(rc.QueryArgs().Peek("status")))
	s.reply(rc, v, err)
}

func (s *Server) handleInvokeSkill(rc *reqCtx) {
	if s.opts.Routes.Skills == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	var body struct {
		Inputs map[string]any `json:"inputs"`
	}
	if b := bytes.TrimSpace(rc.PostBody()); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			s.fail(rc, withDetail(ErrInvalidJSON, "expected {\"inputs\": {...}}"))
			return
		}
	}
	if body.Inputs == nil {
		body.Inputs = map[string]any{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v, err := s.opts.Routes.Skills.InvokeSkill(ctx, rc.param, body.Inputs)
	s.reply(rc, v, err)
}

func (s *Server) handleChatCompletions(rc *reqCtx) {
	if s.opts.Routes.OpenAI == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	s.opts.Routes.OpenAI.ChatCompletions(rc.RequestCtx, rc.userID)
}

func (s *Server) handleModels(rc *reqCtx) {
	if s.opts.Routes.OpenAI == nil {
		s.fail(rc, ErrUnavailable)
		return
	}
	s.opts.Routes.OpenAI.Models(rc.RequestCtx)
}

// openAIMore returns the OpenAI front's pass-through routes, or answers 503 (no
// front) or 404 (a front without them) and returns nil.
func (s *Server) openAIMore(rc *reqCtx) OpenAIMoreRoutes {
	if s.opts.Routes.OpenAI == nil {
		s.fail(rc, ErrUnavailable)
		return nil
	}
	m, ok := s.opts.Routes.OpenAI.(OpenAIMoreRoutes)
	if !ok {
		s.fail(rc, ErrNotFound)
		return nil
	}
	return m
}

func (s *Server) handleModel(rc *reqCtx) {
	if m := s.openAIMore(rc); m != nil {
		m.Model(rc.RequestCtx, rc.param)
	}
}

func (s *Server) handleEmbeddings(rc *reqCtx) {
	if m := s.openAIMore(rc); m != nil {
		m.Embeddings(rc.RequestCtx, rc.userID)
	}
}

func (s *Server) handleCompletions(rc *reqCtx) {
	if m := s.openAIMore(rc); m != nil {
		m.Completions(rc.RequestCtx, rc.userID)
	}
}

func (s *Server) handleResponses(rc *reqCtx) {
	if m := s.openAIMore(rc); m != nil {
		m.Responses(rc.RequestCtx, rc.userID)
	}
}

func (s *Server) reply(rc *reqCtx, v any, err error) {
	if err != nil {
		s.fail(rc, err)
		return
	}
	s.writeJSON(rc, fasthttp.StatusOK, v)
}

func intArg(rc *reqCtx, name string, def, lo, hi int) (int, error) {
	raw := rc.QueryArgs().Peek(name)
	if len(raw) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < lo || n > hi {
		return 0, withDetail(ErrInvalidRequest, name+": must be an integer in "+strconv.Itoa(lo)+".."+strconv.Itoa(hi))
	}
	return n, nil
}
