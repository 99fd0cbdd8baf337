package gateway

// handleConsole serves the operator console's page at "/". It is open with API keys
// on (noAuth in the route table): the page is static and holds no node data; the
// browser asks for the key and sends it on every API call.
func (s *Server) handleConsole(rc *reqCtx) {
	s.console.ServeIndex(rc.RequestCtx)
}

// handleConsoleAsset serves /console/{file}, open like the page; an unknown file is
// 404 in the error shape.
func (s *Server) handleConsoleAsset(rc *reqCtx) {
	if err := s.console.ServeAsset(rc.RequestCtx, rc.param); err != nil {
		rc.Response.Header.Set("Cache-Control", "no-store")
		s.fail(rc, err)
	}
}
