// Package docs holds bizra's operator documentation and embeds it, so that
// `bizra init` can seed an empty data lake with the project's own docs: a fresh node
// then answers questions about itself from local evidence, with no model and no
// network.
package docs

import "embed"

// FS holds every Markdown file of this folder.
//
//go:embed *.md
var FS embed.FS
