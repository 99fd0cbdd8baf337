// Package query owns the query pipeline: the request and result types shared by both
// front doors, the pre-flight gates, and the bounded pool of query workers that run
// cache lookup, reasoning, inference, scoring and commit for one query each.
package query
