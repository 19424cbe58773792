package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"kompas/internal/platform/store"
)

// Key is Kompas's audit signing key, an Ed25519 key in the signed-note
// encoding ("PRIVATE+KEY+<name>+<hash>+<data>"). It signs every event and
// every checkpoint. It lives outside the database (kompas audit keygen,
// serve --audit-key), so whoever can write the database cannot sign.
type Key struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// ParseKey reads a private key in the signed-note encoding.
func ParseKey(text string) (*Key, error) {
	text = strings.TrimSpace(text)
	signer, err := note.NewSigner(text)
	if err != nil {
		return nil, fmt.Errorf("audit: key: %w", err)
	}
	vkey, err := verifierKeyOfPrivate(text)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("audit: key: %w", err)
	}
	return &Key{signer: signer, verifier: verifier, vkey: vkey}, nil
}

// LoadKey reads the private key file path.
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: key: %w", err)
	}
	return ParseKey(string(b))
}

// Name is the key's name, part of every checkpoint's origin.
func (k *Key) Name() string { return k.signer.Name() }

// Verifier is the public half, enough to check events and checkpoints.
func (k *Key) Verifier() note.Verifier { return k.verifier }

// VerifierKey is the public half in the signed-note encoding
// ("<name>+<hash>+<data>"), what a witness keeps.
func (k *Key) VerifierKey() string { return k.vkey }

// GenerateKey makes a new key named name and returns its private and
// public encodings.
func GenerateKey(name string) (private, public string, err error) {
	// The signed-note rules for a key name (note.GenerateKey does not
	// check them, and a bad name makes a key no note verifies with).
	if name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '+' }) >= 0 {
		return "", "", fmt.Errorf("audit: key name %q: want a non-empty name without spaces or +", name)
	}
	private, public, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("audit: generate key: %w", err)
	}
	return private, public, nil
}

// ParseVerifier reads a public key ("<name>+<hash>+<data>", the .pub file)
// or derives it from a private key, so verify takes either.
func ParseVerifier(text string) (note.Verifier, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "PRIVATE+KEY+") {
		vkey, err := verifierKeyOfPrivate(text)
		if err != nil {
			return nil, err
		}
		text = vkey
	}
	v, err := note.NewVerifier(text)
	if err != nil {
		return nil, fmt.Errorf("audit: verifier key: %w", err)
	}
	return v, nil
}

// LoadVerifier reads a public or private key file.
func LoadVerifier(path string) (note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: verifier key: %w", err)
	}
	return ParseVerifier(string(b))
}

// verifierKeyOfPrivate derives the public key's encoding: the note
// package keeps the Ed25519 seed after a one-byte algorithm tag.
func verifierKeyOfPrivate(text string) (string, error) {
	parts := strings.SplitN(text, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("audit: key: not a private key")
	}
	data, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(data) != 1+ed25519.SeedSize || data[0] != 1 {
		return "", errors.New("audit: key: not an Ed25519 private key")
	}
	pub := ed25519.NewKeyFromSeed(data[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return "", fmt.Errorf("audit: key: %w", err)
	}
	if !strings.HasPrefix(vkey, parts[2]+"+"+parts[3]+"+") {
		return "", errors.New("audit: key: the key hash does not match the key")
	}
	return vkey, nil
}

// configured is the process's key, set once at start by Configure; nil
// means events are appended unsigned.
var configured atomic.Pointer[Key]

// Configure sets the key Append signs every event with (nil: unsigned, the
// log is then not tamper-evident against whoever can write the database).
// The composition root calls it once, before serving.
func Configure(k *Key) { configured.Store(k) }

// Configured is the key set by Configure, or nil.
func Configured() *Key { return configured.Load() }

// newNonce is the random per-event value signed with the content, so a
// copied (replayed) event shows as a repeated nonce.
func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("audit: nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// signedContent is what an event's signature covers: its content and
// nonce, not its place in the log (seq, prev_hash), which is only known
// under the chain lock. The NUL in the prefix keeps it from ever being a
// signed note's text (notes may not contain control characters).
func (e Event) signedContent() []byte {
	b := make([]byte, 0, 128+len(e.Detail))
	b = append(b, "kompas audit event v1\x00"...)
	for _, f := range []string{
		store.FormatTime(e.At), strconv.FormatInt(e.ActorID, 10), e.Actor, e.Org,
		e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail, e.Nonce,
	} {
		b = appendField(b, f)
	}
	return b
}

// appendField writes f length-prefixed, so no two field lists share an
// encoding.
func appendField(b []byte, f string) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	b = append(b, ':')
	b = append(b, f...)
	return append(b, ';')
}

// sign returns the event signature: the key hash (4 bytes, big-endian, as
// in signed notes) and the Ed25519 signature, base64.
func (k *Key) sign(e Event) (string, error) {
	sig, err := k.signer.Sign(e.signedContent())
	if err != nil {
		return "", fmt.Errorf("audit: sign event: %w", err)
	}
	b := make([]byte, 4, 4+len(sig))
	binary.BigEndian.PutUint32(b, k.signer.KeyHash())
	return base64.StdEncoding.EncodeToString(append(b, sig...)), nil
}

// checkSig says what is wrong with e's signature under v, or "" when it
// holds.
func checkSig(v note.Verifier, e Event) string {
	raw, err := base64.StdEncoding.DecodeString(e.Sig)
	if err != nil || len(raw) < 5 {
		return "has an unreadable signature"
	}
	if h := binary.BigEndian.Uint32(raw); h != v.KeyHash() {
		return fmt.Sprintf("is signed by another key (%08x, not %s's %08x)", h, v.Name(), v.KeyHash())
	}
	if !v.Verify(e.signedContent(), raw[4:]) {
		return "has a bad signature (its content was changed, or it was not written by Kompas)"
	}
	return ""
}
