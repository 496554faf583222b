package specstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// keyring is the session's sealing key, read or made on first need.
type keyring struct {
	path string
	mu   sync.Mutex
	aead cipher.AEAD
}

const keyLen = 32 // AES-256

// get returns the AEAD, reading the key file, or making it when create is
// set and there is none.
func (k *keyring) get(create bool) (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.aead != nil {
		return k.aead, nil
	}
	key, err := os.ReadFile(k.path)
	if errors.Is(err, os.ErrNotExist) && create {
		key, err = k.make()
	}
	if err != nil {
		return nil, err
	}
	if len(key) != keyLen {
		return nil, fmt.Errorf("%s: %d bytes, want %d", k.path, len(key), keyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k.aead, nil
}

// make writes a new key whole to a temporary file and links it into place,
// so that a crash never leaves a short key behind; if a key appeared
// meanwhile, that one is used.
func (k *keyring) make() ([]byte, error) {
	key := make([]byte, keyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(k.path), ".tmp-key-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp, k.path); errors.Is(err, os.ErrExist) {
		return os.ReadFile(k.path)
	} else if err != nil {
		return nil, err
	}
	return key, syncDir(filepath.Dir(k.path))
}

// seal returns the env's sorted names and its values sealed: base64 of
// nonce and ciphertext, with the server id as additional data (a sealed env
// copied into another record does not open).
func (k *keyring) seal(id string, env map[string]string) ([]string, string, error) {
	names := make([]string, 0, len(env))
	for n := range env {
		names = append(names, n)
	}
	sort.Strings(names)
	aead, err := k.get(true)
	if err != nil {
		return names, "", err
	}
	plain, err := json.Marshal(env)
	if err != nil {
		return names, "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return names, "", err
	}
	return names, base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(id))), nil
}

func (k *keyring) open(id, sealed string) (map[string]string, error) {
	aead, err := k.get(false)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, errors.New("not a sealed value")
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, errors.New("the key does not open it (servers.key replaced?)")
	}
	var env map[string]string
	if err := json.Unmarshal(plain, &env); err != nil {
		return nil, err
	}
	return env, nil
}
