// Command go-verifier checks the ledger's checkpoints, inclusion proofs and
// consistency proofs with the Go project's own transparency-log code,
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (the code the go
// command uses to check sum.golang.org), through their public APIs only.
//
// It reads one JSON request a line on stdin and writes one JSON answer a line
// on stdout, in the same order:
//
//	{"id":"1","kind":"checkpoint","note":"<signed note>","vkey":"<name>+<key ID>+<base64 key>"}
//	{"id":"2","kind":"inclusion","leaf":"<base64 record bytes>"|"leafHash":"<hex>","index":5,
//	   "note":"…","vkey":"…" | "size":97,"root":"<hex>", "proof":["<hex>",…]}
//	{"id":"3","kind":"consistency","oldNote":"…","newNote":"…","vkey":"…" |
//	   "oldSize":97,"oldRoot":"<hex>","newSize":194,"newRoot":"<hex>", "proof":["<hex>",…]}
//
//	{"id":"1","ok":true,"size":97,"root":"<hex>"}   or   {"id":"2","ok":false,"reason":"…"}
//
// What is whose:
//   - note.NewVerifier parses the C2SP verifier key (name, key hash, 0x01 ‖
//     Ed25519 key) and checks the key hash; note.Open parses the signed note
//     and verifies the Ed25519 signature of the named key over the note text.
//     Signatures by unknown keys (a witness's cosignature) are set aside.
//   - The checkpoint body is read by tlog.ParseTree: after its origin line a
//     C2SP checkpoint has the form of a go.sum tree note (decimal size, base64
//     root hash, extension lines ignored). Only the origin line is checked
//     here: it must be the key's name.
//   - tlog.RecordHash is SHA-256(0x00 ‖ record), tlog.CheckRecord checks an
//     RFC 6962 inclusion proof, tlog.CheckTree an RFC 6962 consistency proof
//     (node hash SHA-256(0x01 ‖ left ‖ right)).
//
// A malformed request is an answer with ok false, never a crash; a panic in a
// check is caught and answered with "crashed": true.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	VKey     string   `json:"vkey"`
	Note     *string  `json:"note"`
	Leaf     *string  `json:"leaf"`
	LeafHash *string  `json:"leafHash"`
	Index    *int64   `json:"index"`
	Size     *int64   `json:"size"`
	Root     *string  `json:"root"`
	OldNote  *string  `json:"oldNote"`
	NewNote  *string  `json:"newNote"`
	OldSize  *int64   `json:"oldSize"`
	OldRoot  *string  `json:"oldRoot"`
	NewSize  *int64   `json:"newSize"`
	NewRoot  *string  `json:"newRoot"`
	Proof    []string `json:"proof"`
}

type answer struct {
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Reason  string `json:"reason,omitempty"`
	Crashed bool   `json:"crashed,omitempty"`
	Size    *int64 `json:"size,omitempty"`
	Root    string `json:"root,omitempty"`
}

// checkpoint verifies a signed checkpoint note with the verifier key and returns its tree.
func checkpoint(text, vkey string) (tlog.Tree, error) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("verifier key: %w", err)
	}
	opened, err := note.Open([]byte(text), note.VerifierList(verifier))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("note: %w", err)
	}
	origin, body, found := strings.Cut(opened.Text, "\n")
	if !found || origin != verifier.Name() {
		return tlog.Tree{}, fmt.Errorf("checkpoint: origin %q is not the key's name %q", origin, verifier.Name())
	}
	tree, err := tlog.ParseTree([]byte("go.sum database tree\n" + body))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("checkpoint: %w", err)
	}
	return tree, nil
}

func hash(field, value string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(value)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("%s is not %d bytes in hex", field, tlog.HashSize)
	}
	copy(h[:], b)
	return h, nil
}

func hashes(values []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(values))
	for i, v := range values {
		h, err := hash(fmt.Sprintf("proof[%d]", i), v)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// tree is the tree a request names: from a signed note when one is given, else from a size and a root.
func tree(which string, text *string, vkey string, size *int64, root *string) (tlog.Tree, error) {
	if text != nil {
		if size != nil || root != nil {
			return tlog.Tree{}, fmt.Errorf("%s: a note or a size and root, not both", which)
		}
		return checkpoint(*text, vkey)
	}
	if size == nil || root == nil {
		return tlog.Tree{}, fmt.Errorf("%s: a note or a size and root are needed", which)
	}
	h, err := hash(which+" root", *root)
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.Tree{N: *size, Hash: h}, nil
}

func inclusion(r request) error {
	t, err := tree("tree", r.Note, r.VKey, r.Size, r.Root)
	if err != nil {
		return err
	}
	var leaf tlog.Hash
	switch {
	case r.Leaf != nil && r.LeafHash == nil:
		data, err := base64.StdEncoding.DecodeString(*r.Leaf)
		if err != nil {
			return errors.New("leaf is not base64")
		}
		leaf = tlog.RecordHash(data)
	case r.LeafHash != nil && r.Leaf == nil:
		if leaf, err = hash("leafHash", *r.LeafHash); err != nil {
			return err
		}
	default:
		return errors.New("one of leaf and leafHash is needed")
	}
	if r.Index == nil {
		return errors.New("index is needed")
	}
	proof, err := hashes(r.Proof)
	if err != nil {
		return err
	}
	return tlog.CheckRecord(proof, t.N, t.Hash, *r.Index, leaf)
}

func consistency(r request) error {
	older, err := tree("old", r.OldNote, r.VKey, r.OldSize, r.OldRoot)
	if err != nil {
		return err
	}
	newer, err := tree("new", r.NewNote, r.VKey, r.NewSize, r.NewRoot)
	if err != nil {
		return err
	}
	proof, err := hashes(r.Proof)
	if err != nil {
		return err
	}
	return tlog.CheckTree(proof, newer.N, newer.Hash, older.N, older.Hash)
}

func handle(line []byte) (a answer) {
	defer func() {
		if p := recover(); p != nil {
			a = answer{ID: a.ID, OK: false, Crashed: true, Reason: fmt.Sprint(p)}
		}
	}()
	var r request
	decoder := json.NewDecoder(bytes.NewReader(line))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&r); err != nil {
		return answer{Reason: "malformed request: " + err.Error()}
	}
	a.ID = r.ID
	var err error
	switch r.Kind {
	case "checkpoint":
		var t tlog.Tree
		if r.Note == nil {
			err = errors.New("note is needed")
		} else if t, err = checkpoint(*r.Note, r.VKey); err == nil {
			a.Size, a.Root = &t.N, hex.EncodeToString(t.Hash[:])
		}
	case "inclusion":
		err = inclusion(r)
	case "consistency":
		err = consistency(r)
	default:
		err = fmt.Errorf("unknown kind %q", r.Kind)
	}
	if err != nil {
		a.Reason = err.Error()
		return a
	}
	a.OK = true
	return a
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(out)
	for in.Scan() {
		if err := encoder.Encode(handle(in.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
