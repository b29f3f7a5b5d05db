package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" = no file
		opt      Options
		wantErr  error
		wantData string
		wantPerm fs.FileMode
	}{
		{"new file, default perm", "", Options{}, nil, "new", 0o600},
		{"replace, synced", "old", Options{Perm: 0o644, Sync: true}, nil, "new", 0o644},
		{"no-replace on a new path", "", Options{NoReplace: true, Sync: true}, nil, "new", 0o600},
		{"no-replace on an existing path", "old", Options{NoReplace: true}, fs.ErrExist, "old", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f.json")
			if tt.existing != "" {
				if err := os.WriteFile(p, []byte(tt.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(p, []byte("new"), tt.opt)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Write: err %v, want %v", err, tt.wantErr)
			}
			got, rerr := os.ReadFile(p)
			if rerr != nil || string(got) != tt.wantData {
				t.Fatalf("content %q (%v), want %q", got, rerr, tt.wantData)
			}
			st, _ := os.Stat(p)
			if st.Mode().Perm() != tt.wantPerm {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tt.wantPerm)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if IsTemp(e.Name()) {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

func TestWriteMissingDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "f")
	if err := Write(p, []byte("x"), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v, want fs.ErrNotExist", err)
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".nonce.json.tmp-123": true, "nonce.json": false, ".hidden": false, "x.tmp-1": false,
	} {
		if got := IsTemp(name); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
}
