//go:build !unix

package genesis

const noFollow = 0
