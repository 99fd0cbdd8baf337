package bench

import (
	"os"
	"strings"
)

// ReplaceSection puts body between the marker start and the first end after it in file
// (appending the pair at the end when there is no such pair), keeping the file's mode. The README's
// generated sections (bizra-bench's performance, bizra-eval's answer quality) go
// through it.
func ReplaceSection(file, start, end, body string) error {
	old, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	text := string(old)
	i, j := section(text, start, end)
	if j < 0 {
		text = strings.TrimRight(text, "\n") + "\n\n"
		i, j = len(text), len(text)+len(start)+1
		text += start + "\n" + end + "\n"
	}
	text = text[:i+len(start)] + "\n" + body + text[j:]
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.WriteFile(file, []byte(text), fi.Mode().Perm())
}

// section returns the index of start and of the first end after it; j is -1 when
// there is no such pair.
func section(text, start, end string) (i, j int) {
	i = strings.Index(text, start)
	if i < 0 {
		return -1, -1
	}
	j = strings.Index(text[i+len(start):], end)
	if j < 0 {
		return i, -1
	}
	return i, i + len(start) + j
}
