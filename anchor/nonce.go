package anchor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sunproof/sunproof/internal/atomicfile"
)

// NonceSource tells the nonce manager the account's next nonce as the node
// sees it, pending transactions included (eth_getTransactionCount
// "pending"). Backend implements it.
type NonceSource interface {
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
}

// NonceManager hands out the nonces of one key. Use one per key and process
// (Submitter and the Registrar it returns share one): it serialises signing
// and sending under a mutex, so two transactions never get the same nonce
// concurrently, and it persists the next nonce to a small file (written
// atomically) so a restarted process does not reuse a nonce that a node
// behind a load balancer has not yet seen.
//
// The node is the authority: on start the manager takes the larger of the
// persisted nonce and the node's pending nonce, and after any failed send
// (a nonce error, or a transport error after which the node may or may not
// have the transaction) and on Resync it takes the node's pending nonce,
// even if it is lower (a transaction lost with a node's pool leaves a gap
// that would otherwise block every later one).
type NonceManager struct {
	src     NonceSource
	addr    common.Address
	chainID uint64
	file    string
	logger  *slog.Logger

	mu     sync.Mutex
	next   uint64
	synced bool // false: ask the node before the next Use
}

// nonceFile is the persisted state.
type nonceFile struct {
	Address   common.Address `json:"address"`
	ChainID   uint64         `json:"chain_id"`
	NextNonce uint64         `json:"next_nonce"`
}

// NewNonceManager returns the nonce manager of addr on chain chainID,
// persisting to file ("" = keep it in memory only), synced with src. It
// fails if file belongs to another address or chain.
func NewNonceManager(ctx context.Context, src NonceSource, addr common.Address, chainID uint64, file string, logger *slog.Logger) (*NonceManager, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &NonceManager{src: src, addr: addr, chainID: chainID, file: file, logger: logger}
	var persisted uint64
	if file != "" {
		b, err := os.ReadFile(file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("nonce file: %w", err)
		default:
			var st nonceFile
			if err := json.Unmarshal(b, &st); err != nil {
				return nil, fmt.Errorf("nonce file %s: %w", file, err)
			}
			if st.Address != addr || st.ChainID != chainID {
				return nil, fmt.Errorf("nonce file %s is for %s on chain %d, not %s on chain %d",
					file, st.Address.Hex(), st.ChainID, addr.Hex(), chainID)
			}
			persisted = st.NextNonce
		}
	}
	pending, err := src.PendingNonceAt(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("nonce of %s: %w", addr.Hex(), err)
	}
	m.next, m.synced = max(pending, persisted), true
	if persisted > pending {
		logger.Warn("persisted nonce is ahead of the node; using it (a gap resyncs on the first dropped transaction)",
			"address", addr.Hex(), "persisted", persisted, "pending", pending)
	}
	if err := m.persist(); err != nil {
		return nil, err
	}
	return m, nil
}

// Address returns the account whose nonces m manages.
func (m *NonceManager) Address() common.Address { return m.addr }

// Next returns the nonce the next Use will try (if no resync intervenes).
func (m *NonceManager) Next() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next
}

// Use calls send with the next nonce while holding the manager's lock. If
// send returns nil, the nonce is consumed and persisted; otherwise it is
// not, and the manager asks the node again before the next Use. send
// should sign and send one transaction and return the node's answer.
func (m *NonceManager) Use(ctx context.Context, send func(nonce uint64) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.synced {
		if err := m.resyncLocked(ctx); err != nil {
			return err
		}
	}
	if err := send(m.next); err != nil {
		m.synced = false
		return err
	}
	m.next++
	if err := m.persist(); err != nil {
		// The transaction is out; the node stays the authority, so a lost
		// file only costs a resync after a restart.
		m.logger.Warn("persist nonce", "err", err, "file", m.file)
	}
	return nil
}

// Resync sets the next nonce to the node's pending nonce.
func (m *NonceManager) Resync(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.resyncLocked(ctx)
}

// invalidate makes the next Use ask the node first.
func (m *NonceManager) invalidate() {
	m.mu.Lock()
	m.synced = false
	m.mu.Unlock()
}

func (m *NonceManager) resyncLocked(ctx context.Context) error {
	pending, err := m.src.PendingNonceAt(ctx, m.addr)
	if err != nil {
		return fmt.Errorf("resync nonce of %s: %w", m.addr.Hex(), err)
	}
	if pending != m.next {
		m.logger.Info("nonce resynced", "address", m.addr.Hex(), "from", m.next, "to", pending)
	}
	m.next, m.synced = pending, true
	if err := m.persist(); err != nil {
		m.logger.Warn("persist nonce", "err", err, "file", m.file)
	}
	return nil
}

func (m *NonceManager) persist() error {
	if m.file == "" {
		return nil
	}
	b, err := json.Marshal(nonceFile{Address: m.addr, ChainID: m.chainID, NextNonce: m.next})
	if err != nil {
		return err
	}
	return chainWriteFile(m.file, append(b, '\n'), 0o600)
}

// chainWriteFile replaces path's content durably, creating its directory
// (0700) if needed: after a crash path holds either the old or the new
// content.
func chainWriteFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, data, atomicfile.Options{Perm: perm, Sync: true})
}
