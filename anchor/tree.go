package anchor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size of every hash in this package (SHA-256).
const HashSize = sha256.Size

// Hash is a SHA-256 digest: a leaf hash, a node hash or a root.
type Hash = [HashSize]byte

// hasher is the RFC 6962 / RFC 9162 hasher that defines the tree: leaf hash
// SHA-256(0x00 ‖ data), node hash SHA-256(0x01 ‖ left ‖ right). Proof
// verification always goes through it; Tree builds with hashChildren below,
// which computes the same function without allocating (tree_test.go checks
// that they agree).
var hasher = rfc6962.DefaultHasher

// hashChildren returns SHA-256(0x01 ‖ l ‖ r).
func hashChildren(l, r *Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = rfc6962.RFC6962NodeHashPrefix
	copy(buf[1:], l[:])
	copy(buf[1+HashSize:], r[:])
	return sha256.Sum256(buf[:])
}

// leafHash returns SHA-256(0x00 ‖ data).
func leafHash(data []byte) Hash {
	var out Hash
	copy(out[:], hasher.HashLeaf(data))
	return out
}

// Tree is an immutable in-memory RFC 9162 Merkle tree that keeps every
// perfect subtree hash, so inclusion proofs cost no hashing beyond the
// ephemeral right-border node. It is safe for concurrent readers.
//
// Level 0 holds the leaf hashes; level l holds the roots of the perfect
// subtrees of 2^l leaves, exactly the non-ephemeral nodes that
// compact.NodeID addresses, which is what proof.Inclusion asks for.
type Tree struct {
	levels [][]Hash
	root   Hash
}

// ErrEmptyTree is returned when a tree would have no leaves. Windows and
// batches are never empty, so an empty tree is always a caller bug.
var ErrEmptyTree = errors.New("anchor: empty tree")

// NewTree builds the tree over the given leaf hashes (already hashed with
// the 0x00 prefix). It takes ownership of leaves.
func NewTree(leaves []Hash) (*Tree, error) {
	if len(leaves) == 0 {
		return nil, ErrEmptyTree
	}
	levels := make([][]Hash, 0, bits.Len(uint(len(leaves))))
	levels = append(levels, leaves)
	for cur := leaves; len(cur) > 1; {
		next := make([]Hash, len(cur)/2)
		for i := range next {
			next[i] = hashChildren(&cur[2*i], &cur[2*i+1])
		}
		levels = append(levels, next)
		cur = next
	}
	t := &Tree{levels: levels}
	t.root = t.computeRoot()
	return t, nil
}

// computeRoot folds the perfect subtrees of the size decomposition from the
// right: MTH(D[n]) of RFC 9162 §2.1.1.
func (t *Tree) computeRoot() Hash {
	size := uint64(len(t.levels[0]))
	var root Hash
	first := true
	for l := 0; l < len(t.levels); l++ {
		if size>>uint(l)&1 == 0 {
			continue
		}
		node := &t.levels[l][size>>uint(l)-1]
		if first {
			root, first = *node, false
			continue
		}
		root = hashChildren(node, &root)
	}
	return root
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 { return uint64(len(t.levels[0])) }

// Root returns the RFC 9162 root hash.
func (t *Tree) Root() Hash { return t.root }

// LeafHash returns the hash of leaf i. It panics if i is out of range.
func (t *Tree) LeafHash(i uint64) Hash { return t.levels[0][i] }

// InclusionProof returns the RFC 9162 audit path of leaf index, ordered from
// the leaf's sibling upwards, as built by proof.Inclusion.
func (t *Tree) InclusionProof(index uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, t.Size())
	if err != nil {
		return nil, err
	}
	hs := make([][]byte, len(nodes.IDs))
	buf := make([]byte, len(nodes.IDs)*HashSize)
	for i, id := range nodes.IDs {
		h := buf[i*HashSize : (i+1)*HashSize : (i+1)*HashSize]
		copy(h, t.levels[id.Level][id.Index][:])
		hs[i] = h
	}
	return nodes.Rehash(hs, hasher.HashChildren)
}

// VerifyInclusion checks an RFC 9162 inclusion proof with
// transparency-dev/merkle's verifier. size must come from a trusted
// commitment, never from the proof.
// A path that yields another root fails with an error wrapping
// ErrRootMismatch; a path of the wrong length or an index not below size
// fails with the library's error.
func VerifyInclusion(index, size uint64, leaf Hash, path [][]byte, root Hash) error {
	calc, err := proof.RootFromInclusionProof(hasher, index, size, leaf[:], path)
	if err != nil {
		return fmt.Errorf("inclusion of leaf %d in tree of size %d: %w", index, size, err)
	}
	if !bytes.Equal(calc, root[:]) {
		return fmt.Errorf("inclusion of leaf %d in tree of size %d: path yields root %x, want %x: %w", index, size, calc, root[:], ErrRootMismatch)
	}
	return nil
}

// ErrRootMismatch means an audit path leads to a root other than the
// committed one.
var ErrRootMismatch = errors.New("root mismatch")

// ProofLen returns the audit path length of leaf index in a tree of size
// leaves (0 if index >= size), per RFC 9162 §2.1.3.
func ProofLen(index, size uint64) int {
	if index >= size {
		return 0
	}
	inner := bits.Len64(index ^ (size - 1))
	return inner + bits.OnesCount64(index>>uint(inner))
}
