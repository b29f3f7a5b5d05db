package anchor

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
)

// GethDevKey is the private key that `geth --dev` funds and unlocks
// (address 0x71562b71999873DB5b286dF957af199Ec94617F7). It is public: use it
// only on a dev chain, through ImportDevKey.
const GethDevKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"

// LoadKey decrypts the go-ethereum keystore file (Web3 Secret Storage v3,
// as written by geth account new, clef or ImportDevKey) with the password
// in passwordFile. The password is the file's first line, without its line
// ending; the key never appears in configuration.
func LoadKey(keystoreFile, passwordFile string) (*ecdsa.PrivateKey, error) {
	password, err := ReadPassword(passwordFile)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(keystoreFile)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	k, err := keystore.DecryptKey(b, password)
	if err != nil {
		return nil, fmt.Errorf("keystore %s: %w", keystoreFile, err)
	}
	return k.PrivateKey, nil
}

// ReadPassword returns the first line of passwordFile without its line
// ending (as geth's --password does).
func ReadPassword(passwordFile string) (string, error) {
	if passwordFile == "" {
		return "", errors.New("keystore: no password file")
	}
	b, err := os.ReadFile(passwordFile)
	if err != nil {
		return "", fmt.Errorf("keystore password: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimSuffix(string(line), "\r"), nil
}

// ImportDevKey writes the secp256k1 private key hexKey (64 hex digits,
// optional 0x) to an encrypted keystore file in dir, named
// sunproof-<address>.json, and returns its path. It is for dev and test
// chains (scripts import GethDevKey with it): the file uses scrypt's light
// parameters, which decrypt in milliseconds. If the file already exists and
// decrypts with password to the same key, ImportDevKey returns it unchanged.
func ImportDevKey(hexKey, password, dir string) (string, error) {
	key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(hexKey), "0x"))
	if err != nil {
		return "", fmt.Errorf("import key: %w", err)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	path := filepath.Join(dir, fmt.Sprintf("sunproof-%x.json", addr[:]))
	switch b, err := os.ReadFile(path); {
	case err == nil:
		k, err := keystore.DecryptKey(b, password)
		if err != nil {
			return "", fmt.Errorf("import key: %s exists and does not decrypt with this password: %w", path, err)
		}
		if k.Address != addr {
			return "", fmt.Errorf("import key: %s holds %s, not %s", path, k.Address.Hex(), addr.Hex())
		}
		return path, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("import key: %w", err)
	}
	k := &keystore.Key{Address: addr, PrivateKey: key}
	if _, err := rand.Read(k.Id[:]); err != nil {
		return "", err
	}
	k.Id[6] = k.Id[6]&0x0f | 0x40 // random (version 4) UUID
	k.Id[8] = k.Id[8]&0x3f | 0x80
	enc, err := keystore.EncryptKey(k, password, keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		return "", fmt.Errorf("import key: %w", err)
	}
	if err := chainWriteFile(path, enc, 0o600); err != nil {
		return "", fmt.Errorf("import key: %w", err)
	}
	return path, nil
}
