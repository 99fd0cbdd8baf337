// Package smartfiles implements the Smart Files skill (`smart_files`, agent
// `file-manager`): the operations scan, organize, rename and merge over the data-lake
// root (operations.md, "Smart Files skill").
//
// A Skill is a plain value that the skill registry (package skills) runs on one of its
// owned goroutines; Run does file I/O and may take as long as its context allows.
//
// # Containment
//
// Every path (the source, target_path, output_path, each merge input and every
// generated destination) is made absolute against the root, cleaned, and refused with
// `Path '<p>' is outside DATA_LAKE_ROOT '<root>'. Traversal blocked.` when it leaves the
// root. All I/O then goes through an [os.Root] opened on the lake, so a symlink or ".."
// planted during the operation cannot reach outside it. On top of that, directories are
// descended one component at a time with Lstat and a same-file check after opening, so
// symbolic links are never followed, not even those that point inside the lake; files
// are opened and compared with the Lstat taken when the plan was made. New files are
// created with O_EXCL and moves are link-then-unlink, so nothing is ever overwritten; a
// clash is reported for that file and the others proceed.
//
// # Inputs
//
// Inputs are the JSON object of invoke_skill: `operation` (scan, organize, rename,
// merge) and the operation's fields. `dry_run` defaults to true and accepts only a
// boolean or the strings "true"/"false"; the other flags are strict in the same way.
// A bad input is an *InputError (catalog InvalidInput); a failure of the operation
// itself is a *Failure whose text is public (written for users: it names only paths
// inside the lake, or the path the user gave).
//
// # Concurrency
//
// A *Skill is immutable after New and Run is safe for concurrent use; two concurrent
// runs over the same folder race like any two file managers would, but neither can
// overwrite a file or escape the root.
package smartfiles
