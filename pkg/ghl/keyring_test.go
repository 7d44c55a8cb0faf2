package ghl_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
)

// mustKey returns a key of KeySize bytes, each b, in base64.
func mustKey(tb testing.TB, b byte) string {
	tb.Helper()
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, ghl.KeySize))
}

// mustRing parses a key ring.
func mustRing(tb testing.TB, spec string) *ghl.KeyRing {
	tb.Helper()
	r, err := ghl.ParseKeyRing(spec)
	require.NoError(tb, err)
	require.NotNil(tb, r)
	return r
}

func TestParseKeyRing(t *testing.T) {
	k1, k2 := mustKey(t, 1), mustKey(t, 2)
	tests := []struct {
		name    string
		spec    string
		wantIDs []string
		wantErr string
	}{
		{name: "empty", spec: "  "},
		{name: "one key", spec: "k1:" + k1, wantIDs: []string{"k1"}},
		{name: "current first, spaces", spec: " k2:" + k2 + " , k1:" + k1, wantIDs: []string{"k2", "k1"}},
		{name: "url alphabet unpadded", spec: "k1:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), wantIDs: []string{"k1"}},
		{name: "no id", spec: k1, wantErr: "pair 1"},
		{name: "bad id", spec: "k 1:" + k1, wantErr: "pair 1"},
		{name: "not base64", spec: "k1:!!!", wantErr: `key "k1": not base64`},
		{name: "short key", spec: "k1:" + base64.StdEncoding.EncodeToString([]byte("short")), wantErr: "want 32 bytes"},
		{name: "duplicate id", spec: "k1:" + k1 + ",k1:" + k2, wantErr: "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ghl.ParseKeyRing(tt.spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), k1, "an error never shows a key")
				require.Contains(t, err.Error(), ghl.EnvTokenKeys)
				return
			}
			require.NoError(t, err)
			if tt.wantIDs == nil {
				require.Nil(t, r)
				return
			}
			require.Equal(t, tt.wantIDs, r.KeyIDs())
			require.Equal(t, tt.wantIDs[0], r.CurrentKeyID())
		})
	}
}

func TestEncryptDecrypt(t *testing.T) {
	r := mustRing(t, "k1:"+mustKey(t, 1))
	plain := ghl.NewSecret("at-very-secret-access-token")
	ct := r.Encrypt(plain, "loc_a/access")
	require.True(t, strings.HasPrefix(ct, "ghlenc1:k1:"), ct)
	require.NotContains(t, ct, plain.Reveal())
	require.NotEqual(t, ct, r.Encrypt(plain, "loc_a/access"), "a fresh nonce each time")

	got, err := r.Decrypt(ct, "loc_a/access")
	require.NoError(t, err)
	require.Equal(t, plain.Reveal(), got.Reveal())

	id, err := ghl.KeyIDOf(ct)
	require.NoError(t, err)
	require.Equal(t, "k1", id)

	tampered := []byte(ct)
	tampered[len(tampered)-3] ^= 'A' ^ 'B'
	tests := []struct {
		name string
		ct   string
		aad  string
		want error
	}{
		{name: "another row", ct: ct, aad: "loc_b/access", want: ghl.ErrDecrypt},
		{name: "another field", ct: ct, aad: "loc_a/refresh", want: ghl.ErrDecrypt},
		{name: "changed byte", ct: string(tampered), aad: "loc_a/access", want: ghl.ErrDecrypt},
		{name: "not a ciphertext", ct: "at-very-secret-access-token", aad: "loc_a/access", want: ghl.ErrDecrypt},
		{name: "truncated", ct: ct[:20], aad: "loc_a/access", want: ghl.ErrDecrypt},
		{name: "unknown key", ct: strings.Replace(ct, ":k1:", ":k9:", 1), aad: "loc_a/access", want: ghl.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Decrypt(tt.ct, tt.aad)
			require.ErrorIs(t, err, tt.want)
			require.NotContains(t, err.Error(), plain.Reveal())
		})
	}
}

// TestKeyRotation moves a ciphertext from an old key to a new one, as rotate-ghl-key does.
func TestKeyRotation(t *testing.T) {
	k1, k2 := mustKey(t, 1), mustKey(t, 2)
	old := mustRing(t, "k1:"+k1)
	ct := old.Encrypt(ghl.NewSecret("rt-refresh"), "loc_a/refresh")

	rotated := mustRing(t, "k2:"+k2+",k1:"+k1)
	got, err := rotated.Decrypt(ct, "loc_a/refresh")
	require.NoError(t, err, "the old key still decrypts")
	require.Equal(t, "rt-refresh", got.Reveal())

	moved, changed, err := rotated.Reencrypt(ct, "loc_a/refresh")
	require.NoError(t, err)
	require.True(t, changed)
	require.True(t, strings.HasPrefix(moved, "ghlenc1:k2:"))
	again, changed, err := rotated.Reencrypt(moved, "loc_a/refresh")
	require.NoError(t, err)
	require.False(t, changed, "already under the current key")
	require.Equal(t, moved, again)

	onlyNew := mustRing(t, "k2:"+k2)
	got, err = onlyNew.Decrypt(moved, "loc_a/refresh")
	require.NoError(t, err, "once re-encrypted, the old key can go")
	require.Equal(t, "rt-refresh", got.Reveal())
	_, err = onlyNew.Decrypt(ct, "loc_a/refresh")
	require.ErrorIs(t, err, ghl.ErrUnknownKey)
	_, _, err = onlyNew.Reencrypt(ct, "loc_a/refresh")
	require.ErrorIs(t, err, ghl.ErrUnknownKey)
}

func TestGenerateKey(t *testing.T) {
	spec, err := ghl.GenerateKey("k2026")
	require.NoError(t, err)
	r := mustRing(t, spec)
	require.Equal(t, "k2026", r.CurrentKeyID())
	_, err = ghl.GenerateKey("bad id")
	require.Error(t, err)
}

// TestSecretRedacts prints a Secret every way a log line, an error or a JSON body might.
func TestSecretRedacts(t *testing.T) {
	const value = "pit-0a1b2c3d-secret"
	s := ghl.NewSecret(value)
	holder := struct {
		Name  string
		Token ghl.Secret
	}{"x", s}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("token", "token", s, "holder", holder)
	body, err := json.Marshal(holder)
	require.NoError(t, err)
	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%s %v %q %x %X %#v %+v %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", holder, holder, holder), fmt.Errorf("refresh %v: %w", s, ghl.ErrTokenRejected).Error(),
		logs.String(), string(body),
	}
	for _, out := range outputs {
		require.NotContains(t, out, value)
		require.Contains(t, out, "REDACTED")
	}
	require.Equal(t, value, s.Reveal())
	require.False(t, s.Empty())
	require.True(t, ghl.Secret{}.Empty())
}

func TestConfigMissing(t *testing.T) {
	ring := mustRing(t, "k1:"+mustKey(t, 1))
	full := ghl.Config{ClientID: "id", ClientSecret: ghl.NewSecret("s"), RedirectURL: "https://x.example/cb", TokenKeys: ring}
	tests := []struct {
		name       string
		cfg        ghl.Config
		missing    []string
		missingPIT []string
	}{
		{name: "nothing set", cfg: ghl.Config{},
			missing:    []string{ghl.EnvClientID, ghl.EnvClientSecret, ghl.EnvRedirectURL, ghl.EnvTokenKeys},
			missingPIT: []string{ghl.EnvTokenKeys}},
		{name: "everything set", cfg: full},
		{name: "only the key, enough for a PIT", cfg: ghl.Config{TokenKeys: ring},
			missing: []string{ghl.EnvClientID, ghl.EnvClientSecret, ghl.EnvRedirectURL}},
		{name: "no secret", cfg: func() ghl.Config { c := full; c.ClientSecret = ghl.Secret{}; return c }(),
			missing: []string{ghl.EnvClientSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.missing, tt.cfg.Missing())
			require.Equal(t, tt.missingPIT, tt.cfg.MissingForPIT())
		})
	}
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, ghl.Config{}.Validate())
	require.NoError(t, ghl.Config{RedirectURL: "https://x.example/v1/ghl/oauth/callback", Scopes: []string{"workflows.readonly"}}.Validate())
	err := ghl.Config{RedirectURL: "/relative", APIURL: "ftp://x", Scopes: []string{"two words"}}.Validate()
	require.ErrorContains(t, err, ghl.EnvRedirectURL)
	require.ErrorContains(t, err, ghl.EnvAPIURL)
	require.ErrorContains(t, err, ghl.EnvScopes)
}

func TestState(t *testing.T) {
	k1, k2 := mustKey(t, 1), mustKey(t, 2)
	r := mustRing(t, "k1:"+k1)
	now := time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)
	claims := ghl.NewStateClaims("acc_a", "loc_a", now)
	require.Equal(t, now.Add(ghl.StateTTL), claims.ExpiresAt)
	state := r.SignState(claims)

	got, err := r.VerifyState(state, now.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, claims, got)

	rotated := mustRing(t, "k2:"+k2+",k1:"+k1)
	got, err = rotated.VerifyState(state, now)
	require.NoError(t, err, "a state signed before a rotation still verifies")
	require.Equal(t, claims, got)

	payload, sig, _ := strings.Cut(state, ".")
	forged := mustForgeState(t, payload, `"a":"acc_a"`, `"a":"acc_b"`) + "." + sig
	other := mustRing(t, "k3:"+mustKey(t, 3)).SignState(claims)

	tests := []struct {
		name  string
		state string
		at    time.Time
		want  error
	}{
		{name: "another account", state: forged, at: now, want: ghl.ErrStateInvalid},
		{name: "signature cut", state: payload + "." + sig[:10], at: now, want: ghl.ErrStateInvalid},
		{name: "no signature", state: payload, at: now, want: ghl.ErrStateInvalid},
		{name: "another deployment's key", state: other, at: now, want: ghl.ErrStateInvalid},
		{name: "garbage", state: "a.b.c", at: now, want: ghl.ErrStateInvalid},
		{name: "expired", state: state, at: now.Add(ghl.StateTTL), want: ghl.ErrStateExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.VerifyState(tt.state, tt.at)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// mustForgeState decodes a state's payload, replaces old by new in it, and encodes it again.
func mustForgeState(tb testing.TB, payload, old, new string) string {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	require.NoError(tb, err)
	require.Contains(tb, string(raw), old)
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), old, new, 1)))
}

func TestAuthorizationURL(t *testing.T) {
	cfg := ghl.Config{ClientID: "app-1", RedirectURL: "https://api.example.com/v1/ghl/oauth/callback",
		Scopes: []string{"workflows.readonly", "locations.readonly"}, AuthURL: "https://marketplace.leadconnectorhq.com/"}
	got := cfg.AuthorizationURL("st.ate")
	require.Equal(t, "https://marketplace.leadconnectorhq.com/oauth/chooselocation?client_id=app-1&"+
		"redirect_uri=https%3A%2F%2Fapi.example.com%2Fv1%2Fghl%2Foauth%2Fcallback&response_type=code&"+
		"scope=workflows.readonly+locations.readonly&state=st.ate", got)
	require.True(t, strings.HasPrefix(ghl.Config{}.AuthorizationURL("s"), ghl.DefaultAuthURL+"/oauth/chooselocation?"))
}
