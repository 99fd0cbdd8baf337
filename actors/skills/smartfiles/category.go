package smartfiles

import (
	"fmt"
	"strings"
)

// Categories lists every category a file can fall in, "other" last.
var Categories = []string{
	"images", "videos", "audio", "documents", "code", "data", "archives",
	"notebooks", "models", "configs", "fonts", "executables", "logs", "other",
}

var extCategory = func() map[string]string {
	byCat := map[string]string{
		"images":      ".jpg .jpeg .png .gif .bmp .svg .webp .ico .tif .tiff .heic .heif .raw .psd",
		"videos":      ".mp4 .avi .mkv .mov .wmv .flv .webm .m4v .mpg .mpeg .3gp",
		"audio":       ".mp3 .wav .flac .aac .ogg .m4a .wma .opus .mid .midi",
		"documents":   ".pdf .doc .docx .txt .md .rtf .odt .xls .xlsx .ppt .pptx .ods .odp .tex .rst .epub",
		"code":        ".py .js .ts .jsx .tsx .go .rs .java .c .h .cpp .hpp .cc .cs .rb .php .sh .bash .ps1 .swift .kt .scala .lua .r .sql .html .css .scss .vue",
		"data":        ".csv .tsv .json .jsonl .ndjson .xml .parquet .feather .arrow .avro .db .sqlite .sqlite3",
		"archives":    ".zip .tar .gz .tgz .bz2 .xz .7z .rar .zst",
		"notebooks":   ".ipynb",
		"models":      ".gguf .ggml .safetensors .onnx .pt .pth .ckpt .h5 .pb .tflite",
		"configs":     ".yaml .yml .toml .ini .cfg .conf .env .properties",
		"fonts":       ".ttf .otf .woff .woff2 .eot",
		"executables": ".exe .msi .dll .so .dylib .apk .deb .rpm .bat .cmd .bin",
		"logs":        ".log",
	}
	m := make(map[string]string)
	for cat, exts := range byCat {
		for _, e := range strings.Fields(exts) {
			m[e] = cat
		}
	}
	return m
}()

func isCategory(s string) bool {
	for _, c := range Categories {
		if c == s {
			return true
		}
	}
	return false
}

// splitName splits a file name into stem and lower-cased extension the way Python's
// pathlib does: a leading dot alone does not start an extension.
func splitName(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || strings.Trim(name[:i], ".") == "" {
		return name, ""
	}
	return name[:i], strings.ToLower(name[i:])
}

// Category returns the category of a file name, by extension.
func Category(name string) string {
	_, ext := splitName(name)
	if c, ok := extCategory[ext]; ok {
		return c
	}
	return "other"
}

// HumanSize renders a byte count with one decimal: 500.0 B, 2.0 KB, 5.0 MB.
func HumanSize(n int64) string {
	size := float64(n)
	for _, unit := range []string{"B", "KB", "MB", "GB", "TB"} {
		if size < 1024 {
			return fmt.Sprintf("%.1f %s", size, unit)
		}
		size /= 1024
	}
	return fmt.Sprintf("%.1f PB", size)
}

// Tokens are the values a rename pattern may use.
type Tokens struct {
	Name string // stem of the old name
	Ext  string // lower-cased extension with its dot
	N    int    // 1-based position in name order
	Hash string // hex content hash; {hash} takes its first 16 characters
	Date string // modification date, YYYY-MM-DD (UTC)
	Cat  string // category
}

// ExpandPattern substitutes {name} {ext} {n} {hash} {date} {cat} in one pass: the
// values are inserted literally and never expanded again.
func ExpandPattern(pattern string, t Tokens) string {
	h := t.Hash
	if len(h) > 16 {
		h = h[:16]
	}
	return strings.NewReplacer(
		"{name}", t.Name, "{ext}", t.Ext, "{n}", fmt.Sprint(t.N),
		"{hash}", h, "{date}", t.Date, "{cat}", t.Cat,
	).Replace(pattern)
}

// splitExt is Python's os.path.splitext: leading dots do not start an extension.
func splitExt(name string) (base, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || strings.Trim(name[:i], ".") == "" {
		return name, ""
	}
	return name[:i], name[i:]
}

// badName reports whether a generated name is unusable as one directory entry.
func badName(name string) bool {
	return name == "" || name == "." || strings.Contains(name, "..") ||
		strings.ContainsAny(name, "/\\\x00")
}
