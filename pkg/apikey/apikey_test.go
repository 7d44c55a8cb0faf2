package apikey

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

var keyShape = regexp.MustCompile(`^ghd_[0-9A-Za-z]{40}$`)

func TestNew(t *testing.T) {
	seen := make(map[string]bool)
	for range 200 {
		k, err := New()
		require.NoError(t, err)
		require.Regexp(t, keyShape, k.Secret)
		require.Equal(t, Hash(k.Secret), k.Hash)
		require.Len(t, k.Hash, 64)
		require.Equal(t, k.Secret[:12], k.Display)
		require.False(t, seen[k.Secret], "duplicate key")
		seen[k.Secret] = true
	}
}

func TestNewFromRejectsBiasedBytes(t *testing.T) {
	// Bytes 248..255 must be skipped: a source of only 255s followed by zeros yields only '0's.
	src := append(bytes.Repeat([]byte{255}, 30), make([]byte, 200)...)
	k, err := newFrom(bytes.NewReader(src))
	require.NoError(t, err)
	require.Equal(t, Prefix+strings.Repeat("0", SecretLength), k.Secret)
}

func TestNewFromReadError(t *testing.T) {
	_, err := newFrom(iotest.ErrReader(iotest.ErrTimeout))
	require.ErrorIs(t, err, iotest.ErrTimeout)
}

func TestNewUsesWholeAlphabet(t *testing.T) {
	counts := make(map[rune]int)
	for range 500 {
		k, err := New()
		require.NoError(t, err)
		for _, r := range k.Secret[len(Prefix):] {
			counts[r]++
		}
	}
	// 20,000 draws over 62 characters: each is expected about 323 times; a character missing or
	// drawn fewer than 200 times would mean a broken mapping.
	require.Len(t, counts, 62)
	for r, n := range counts {
		require.Greater(t, n, 200, "character %q drawn %d times", r, n)
	}
}

func TestParse(t *testing.T) {
	valid := Prefix + strings.Repeat("aZ9", 13) + "x"
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{name: "valid", in: valid},
		{name: "empty", in: "", wantErr: true},
		{name: "wrong prefix", in: "ghx_" + valid[4:], wantErr: true},
		{name: "too short", in: valid[:len(valid)-1], wantErr: true},
		{name: "too long", in: valid + "a", wantErr: true},
		{name: "bad character", in: valid[:len(valid)-1] + "-", wantErr: true},
		{name: "non-ascii", in: valid[:len(valid)-2] + "é", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.in, got)
		})
	}
}

func TestHashAndVerify(t *testing.T) {
	// The SHA-256 of "ghd_test", computed independently with sha256sum.
	require.Equal(t, "ca0ee4d8d309fe8d056afa3233faf3109f42dd8480b6b8dc1aa9f81b83fa3825", Hash("ghd_test"))
	k, err := New()
	require.NoError(t, err)
	require.True(t, Verify(k.Secret, k.Hash))
	require.False(t, Verify(k.Secret+"x", k.Hash))
	require.False(t, Verify(k.Secret, ""))
	other, err := New()
	require.NoError(t, err)
	require.False(t, Verify(other.Secret, k.Hash))
}
