package anchor_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/sunproof/sunproof/anchor"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

func leafHashes(n int) []anchor.Hash {
	out := make([]anchor.Hash, n)
	for i := range out {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		copy(out[i][:], rfc6962.DefaultHasher.HashLeaf(b[:]))
	}
	return out
}

// TestTreeMatchesReference checks roots and every inclusion proof against
// transparency-dev/merkle's reference tree (testonly) for sizes 1..70.
func TestTreeMatchesReference(t *testing.T) {
	for n := 1; n <= 70; n++ {
		leaves := leafHashes(n)
		ref := testonly.New(rfc6962.DefaultHasher)
		for _, l := range leaves {
			ref.Append(bytes.Clone(l[:]))
		}
		tr, err := anchor.NewTree(append([]anchor.Hash(nil), leaves...))
		if err != nil {
			t.Fatal(err)
		}
		root := tr.Root()
		if got, want := root[:], ref.Hash(); !bytes.Equal(got, want) {
			t.Fatalf("size %d: root %x, want %x", n, got, want)
		}
		for i := uint64(0); i < uint64(n); i++ {
			got, err := tr.InclusionProof(i)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.InclusionProof(i, uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(got) != anchor.ProofLen(i, uint64(n)) {
				t.Fatalf("size %d index %d: proof length %d, want %d", n, i, len(got), len(want))
			}
			for j := range got {
				if !bytes.Equal(got[j], want[j]) {
					t.Fatalf("size %d index %d: proof[%d] differs", n, i, j)
				}
			}
			if err := anchor.VerifyInclusion(i, uint64(n), leaves[i], got, root); err != nil {
				t.Fatalf("size %d index %d: %v", n, i, err)
			}
		}
		if _, err := tr.InclusionProof(uint64(n)); err == nil {
			t.Fatalf("size %d: proof for index %d succeeded", n, n)
		}
	}
}

func TestEmptyTree(t *testing.T) {
	if _, err := anchor.NewTree(nil); err == nil {
		t.Fatal("NewTree(nil) succeeded")
	}
}

// TestNoPhantomLeaf demonstrates what decision 0002 relies on: the tree
// separates leaves from nodes (RFC 6962 prefixes 0x00/0x01) and never
// duplicates an odd node, so [a,b,c] and [a,b,c,c] have different roots and
// no proof puts a 4th leaf in a 3-leaf tree.
func TestNoPhantomLeaf(t *testing.T) {
	h := rfc6962.DefaultHasher
	var a, b, c anchor.Hash
	copy(a[:], h.HashLeaf([]byte("a")))
	copy(b[:], h.HashLeaf([]byte("b")))
	copy(c[:], h.HashLeaf([]byte("c")))
	t3, _ := anchor.NewTree([]anchor.Hash{a, b, c})
	t4, _ := anchor.NewTree([]anchor.Hash{a, b, c, c})
	r3, r4 := t3.Root(), t4.Root()
	if r3 == r4 {
		t.Fatalf("[a,b,c] and [a,b,c,c] share root %x", r3)
	}

	// What a duplicating tree (cbergoon/merkletree) would compute for
	// [a,b,c]: SHA256(SHA256(a‖b) ‖ SHA256(c‖c)) — equal to its root of
	// [a,b,c,c]. Ours is SHA256(0x01 ‖ SHA256(0x01‖a‖b) ‖ c).
	plain := func(l, r []byte) []byte { s := sha256.Sum256(append(append([]byte{}, l...), r...)); return s[:] }
	dup := plain(plain(a[:], b[:]), plain(c[:], c[:]))
	if bytes.Equal(dup, r3[:]) {
		t.Fatal("our root equals the duplicating construction")
	}
	if want := h.HashChildren(h.HashChildren(a[:], b[:]), c[:]); !bytes.Equal(r3[:], want) {
		t.Fatalf("root %x, want RFC 6962 %x", r3, want)
	}

	// The phantom proof: index 3 with the path a duplicating tree would
	// give (sibling c, then node ab), against the size-3 root, at every
	// size a forger might claim.
	ab := h.HashChildren(a[:], b[:])
	p4, _ := t4.InclusionProof(3) // a genuine proof for index 3 in [a,b,c,c]
	candidates := [][][]byte{{c[:], ab}, p4, {c[:]}, {ab}, {}}
	for _, size := range []uint64{3, 4} {
		for _, path := range candidates {
			if err := anchor.VerifyInclusion(3, size, c, path, r3); err == nil {
				t.Errorf("phantom leaf 3 verified against the size-3 root (claimed size %d, path len %d)", size, len(path))
			}
			if err := proof.VerifyInclusion(h, 3, 3, c[:], path, r3[:]); err == nil {
				t.Errorf("library verified index 3 in a size-3 tree")
			}
		}
	}
	// And the genuine size-4 proof does not verify against the size-3 root.
	if err := anchor.VerifyInclusion(3, 4, c, p4, r3); err == nil {
		t.Error("size-4 proof verified against the size-3 root")
	}
}

// TestHashChildrenMatchesLibrary pins the allocation-free node hash used for
// building to rfc6962.DefaultHasher.
func TestHashChildrenMatchesLibrary(t *testing.T) {
	leaves := leafHashes(2)
	tr, _ := anchor.NewTree(leaves)
	root := tr.Root()
	if want := rfc6962.DefaultHasher.HashChildren(leaves[0][:], leaves[1][:]); !bytes.Equal(root[:], want) {
		t.Fatalf("root %x, want %x", root, want)
	}
}

// specVerify is the inclusion check exactly as docs/formats/proof.md §2
// writes it (RFC 9162 §2.1.3.2), to keep the spec and the library in step.
func specVerify(index, size uint64, leaf []byte, path [][]byte, root []byte) bool {
	node := func(l, r []byte) []byte {
		s := sha256.Sum256(append(append([]byte{1}, l...), r...))
		return s[:]
	}
	if index >= size {
		return false
	}
	fn, sn, r := index, size-1, leaf
	for _, p := range path {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = node(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = node(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && bytes.Equal(r, root)
}

func TestSpecAlgorithmAgrees(t *testing.T) {
	for n := 1; n <= 40; n++ {
		tr, _ := anchor.NewTree(leafHashes(n))
		root := tr.Root()
		for i := uint64(0); i < uint64(n); i++ {
			p, _ := tr.InclusionProof(i)
			leaf := tr.LeafHash(i)
			variants := [][][]byte{p, p[:max(len(p)-1, 0)], append(slices.Clone(p), leaf[:])}
			for v, path := range variants {
				for _, idx := range []uint64{i, i + 1, i ^ 1} {
					for _, size := range []uint64{uint64(n), uint64(n) + 1} {
						lib := anchor.VerifyInclusion(idx, size, leaf, path, root) == nil
						if spec := specVerify(idx, size, leaf[:], path, root[:]); spec != lib {
							t.Fatalf("n=%d i=%d variant %d idx=%d size=%d: spec %v, library %v", n, i, v, idx, size, spec, lib)
						}
					}
				}
			}
		}
	}
}
