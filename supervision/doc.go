// Package supervision holds bizra's restart strategies for protoactor actors, the
// decider table that maps our sentinel errors to directives, and a fault-injection
// middleware that lets tests and drills show supervision working. Subpackage genesis
// holds the Node0 origin guard; subpackage launcher (owned elsewhere) starts the runtime.
//
// # Backoff
//
// Backoff is a one-for-one actor.SupervisorStrategy (core.md, "Actors and supervision";
// anchors.md section 2). protoactor's own NewExponentialBackoffStrategy waits
// failureCount·initialBackoff plus up to 500 ns: linear, uncapped, no real jitter, and
// its timers outlive the actor system. Backoff instead waits, for the n-th consecutive
// restart,
//
//	delay = min(Max, Min·2^(n−1)), then spread uniformly over ±Jitter, never past Max
//
// and starts again at Min once a child has run ResetAfter since its last restart. On
// top, an Erlang-style intensity limit: a child failing more than MaxRestarts times
// within Window is not restarted; the failure is escalated to the supervisor's parent,
// whose strategy restarts or stops the whole subtree, so a crash loop cannot spin.
//
// HandleFailure runs on the supervisor's goroutine and never blocks or sleeps: the
// decision (decider, reset, intensity) is made there, and the restart is scheduled with
// Clock.AfterFunc. The failed child's mailbox stays suspended during the delay, so its
// messages wait (bounded mailboxes fill and the edge answers OVERLOADED); the message
// being processed when it failed is lost; with Options.FailureReply its sender (a
// RequestFuture or ctx.Request caller) gets an error reply at once instead of waiting
// for its deadline. The timer callback only sends the Restart
// system message (Supervisor.RestartChildren), which is safe from any goroutine;
// escalation happens synchronously in HandleFailure, because EscalateFailure touches
// the supervisor's state. Pending restarts are owned by the strategy: Shutdown cancels
// them and waits for the ones firing.
//
// # Decider
//
// Decide (decider.go) is the default DeciderFunc: one table holds a rule for each
// failure that can reach a supervisor (today ErrInjectedFault; a bug of any other kind
// restarts too). Each rule has a test that makes it fire against a real actor.
//
// # Fault injection
//
// FaultInjection{Kind, PanicOnNth, Repeat} is off unless configured. The kind is the
// name under which a props builder asks for its middleware: Props(opts) calls
// actor.PropsFromProducer(p, opts.Faults.Option("worker")), and only the configured kind
// gets a middleware; the others get nothing at all.
//
// # Concurrency
//
// A Backoff may be shared by many supervisors: its bookkeeping is guarded by a mutex
// and bounded (MaxChildren). OnRestart and OnEscalate run on the failing child's
// supervisor goroutine and must not block. Decide, FaultInjection and MetricsHooks are
// safe for concurrent use.
package supervision
