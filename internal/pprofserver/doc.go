// Package pprofserver serves net/http/pprof on its own listener, apart from the API:
// `bizra run --pprof 127.0.0.1:6060`. It binds loopback addresses only unless
// Options.AllowNonLoopback says otherwise (a profile endpoint shows the command line,
// the heap and goroutine stacks, and can make the process spend CPU on a profile: it
// is not for a network). Off unless configured; cmd/bizra builds it only with the flag.
//
// The handlers are registered on a private mux, never http.DefaultServeMux. Start
// binds and serves on one goroutine the Server owns; Shutdown closes the listener,
// waits for requests in flight within ctx (a running CPU profile is cut short), waits
// for that goroutine, and is idempotent.
package pprofserver
