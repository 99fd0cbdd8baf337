package core

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/VictoriaMetrics/metrics"
)

// help is the HELP text of every series family bizra exports. VictoriaMetrics/metrics
// writes "# HELP name" with no text; WriteExposition fills it in from here, so
// `promtool check metrics` finds no family without help.
var help = map[string]string{
	"sovereign_queries_total":                 "Queries that completed the pipeline, cache hits included.",
	"sovereign_query_success_rate":            "Succeeded over processed queries, 0 when none.",
	"sovereign_snr_score":                     "Mean SNR of the last 100 completed queries that were scored.",
	"sovereign_ihsan_score":                   "Mean Ihsan of the last 100 completed queries that were scored.",
	"sovereign_avg_query_time_ms":             "Running mean of query time in milliseconds (compatibility name; see sovereign_query_duration_seconds).",
	"sovereign_health_score":                  "0.4*snr + 0.4*ihsan + 0.2*success_rate; before any query 1 when ready, else 0.",
	"sovereign_reasoning_calls_total":         "Graph-of-thought runs (not counted when reasoning is skipped).",
	"sovereign_reasoning_avg_depth":           "Mean graph depth reached.",
	"sovereign_validation_pass_rate":          "Passed over validated queries, counted once per query.",
	"sovereign_autonomous_cycles_total":       "Maintenance-loop cycles run.",
	"sovereign_autonomous_decisions_total":    "Decisions the maintenance loop took.",
	"sovereign_autonomous_actions_total":      "Actions the maintenance loop executed.",
	"sovereign_cache_hits_total":              "Result-cache hits.",
	"sovereign_cache_misses_total":            "Result-cache misses (not counted when the cache is off).",
	"sovereign_cache_hit_rate":                "Result-cache hits over hits plus misses.",
	"sovereign_build_info":                    "Build information; always 1.",
	"sovereign_uptime_seconds":                "Seconds since the runtime started.",
	"sovereign_query_duration_seconds":        "Query time from admission to answer.",
	"sovereign_query_overhead_seconds":        "Query time spent in the runtime itself, excluding the inference backend.",
	"sovereign_query_snr":                     "SNR of each scored query (the distribution; sovereign_snr_score is the mean of the last 100).",
	"sovereign_query_ihsan":                   "Ihsan of each scored query (the distribution; sovereign_ihsan_score is the mean of the last 100).",
	"sovereign_query_in_flight":               "Queries admitted and not yet answered.",
	"sovereign_query_queue_depth":             "Queries waiting for a query worker.",
	"sovereign_query_timeouts_total":          "Queries that did not finish within timeout_ms.",
	"sovereign_query_overloaded_total":        "Queries refused because the query queue was full.",
	"sovereign_gate_rejections_total":         "Queries rejected by a pre-flight gate, by gate.",
	"sovereign_degraded_answers_total":        "Answers given by the embedded engine after every external backend failed.",
	"sovereign_graph_nodes_total":             "Graph-of-thought nodes created.",
	"sovereign_graph_edges_total":             "Graph-of-thought edges created.",
	"sovereign_cache_entries":                 "Entries in the result cache.",
	"sovereign_index_passages":                "Passages in the data-lake index.",
	"sovereign_index_files":                   "Files in the data-lake index.",
	"sovereign_index_indexing":                "1 while the first scan of the data lake since start runs (loading or indexing), else 0.",
	"sovereign_index_scan_files_done":         "Files done by the running (or last) scan of the data lake.",
	"sovereign_index_scan_files":              "Files found by the running (or last) scan of the data lake.",
	"sovereign_index_unreadable_files":        "Data-lake files the last scan could not read (named in /v1/status index.unreadable_files).",
	"sovereign_security_events_total":         "Security events detected at run time, by kind (genesis_swapped, genesis_invalid).",
	"sovereign_actor_restarts_total":          "Actor restarts by the supervisor, by actor kind.",
	"sovereign_actor_escalations_total":       "Crash loops escalated by the supervisor, by actor kind.",
	"sovereign_http_requests_total":           "HTTP responses by route and status code.",
	"sovereign_http_request_duration_seconds": "HTTP request handling time by route.",
	"sovereign_http_rejected_total":           "HTTP connections and requests refused before routing (connection limit, transport errors), by reason.",
	"sovereign_panics_total":                  "Panics recovered at an edge (the request answered INTERNAL, the process kept), by component.",
}

// processRenames fixes the few Go-runtime series of VictoriaMetrics/metrics whose names
// break Prometheus conventions (promtool's lint), so our exposition passes it.
var processRenames = map[string]string{
	"go_cgo_calls_count": "go_cgo_calls_total",
	"go_gc_forced_count": "go_gc_forced_total",
	"go_cpu_count":       "go_cpus",
}

// processRetypes declares as counters the monotonic process series that
// VictoriaMetrics/metrics exposes as gauges.
var processRetypes = map[string]string{
	"process_io_read_bytes_total":            "counter",
	"process_io_written_bytes_total":         "counter",
	"process_io_read_syscalls_total":         "counter",
	"process_io_write_syscalls_total":        "counter",
	"process_io_storage_read_bytes_total":    "counter",
	"process_io_storage_written_bytes_total": "counter",
}

// WriteExposition writes set and the process series in the Prometheus text format
// 0.0.4, with HELP text for every family.
func WriteExposition(w io.Writer, set *metrics.Set) {
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	metrics.WriteProcessMetrics(&buf)
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	bw := bufio.NewWriter(w)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "):
			name := strings.TrimPrefix(line, "# HELP ")
			if i := strings.IndexByte(name, ' '); i >= 0 {
				name = name[:i]
			}
			name = rename(name)
			text := help[name]
			if text == "" {
				text = helpFromName(name)
			}
			bw.WriteString("# HELP " + name + " " + text + "\n")
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if len(f) == 4 {
				name := rename(f[2])
				typ := f[3]
				if t, ok := processRetypes[name]; ok {
					typ = t
				}
				bw.WriteString("# TYPE " + name + " " + typ + "\n")
				continue
			}
			bw.WriteString(line + "\n")
		default:
			end := strings.IndexAny(line, "{ ")
			if end > 0 {
				if to, ok := processRenames[line[:end]]; ok {
					line = to + line[end:]
				}
			}
			bw.WriteString(line + "\n")
		}
	}
	bw.Flush()
}

func rename(name string) string {
	if to, ok := processRenames[name]; ok {
		return to
	}
	return name
}

// helpFromName writes a plain description for a family without an entry in help
// (the series of other packages and the Go runtime).
func helpFromName(name string) string {
	s := strings.TrimPrefix(name, "sovereign_")
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
