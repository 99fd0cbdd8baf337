package main

import "github.com/bizra/bizra/actors/catalog"

// catalogLookup renders an error's public message (never internal text).
func catalogLookup(err error) string {
	p := catalog.Lookup(err)
	return p.Code + ": " + p.Message
}
