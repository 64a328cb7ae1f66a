package server

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/llm"
)

// fakeProfiles is an in-memory ProfileSource for the tests (the profile
// store itself comes with the admin profile API).
type fakeProfiles map[string][]llm.ProfileField

func (f fakeProfiles) Profile(_ context.Context, id string) ([]llm.ProfileField, bool, error) {
	p, ok := f[id]
	return p, ok, nil
}

// TestProfileReachesPromptOnlyWhenVerified: a verified visitor's profile is
// in the prompt; a forged token, another customer's token or no token gets
// no profile at all, so nobody sees another customer's data.
func TestProfileReachesPromptOnlyWhenVerified(t *testing.T) {
	const secret = "identity-secret"
	profiles := fakeProfiles{
		"cust-1": {{Name: "name", Value: "Ada Canary-7731"}, {Name: "plan", Value: "Business"}},
		"cust-2": {{Name: "name", Value: "Bob Canary-4409"}, {Name: "plan", Value: "Starter"}},
	}
	tests := []struct {
		name     string
		customer *Customer
		want     string // the name in the prompt, "" for none
	}{
		{"verified", &Customer{ID: "cust-1", Token: token(secret, "cust-1")}, "Ada Canary-7731"},
		{"verified, other customer", &Customer{ID: "cust-2", Token: token(secret, "cust-2")}, "Bob Canary-4409"},
		{"forged token", &Customer{ID: "cust-2", Token: token("guess", "cust-2")}, ""},
		{"swapped token", &Customer{ID: "cust-2", Token: token(secret, "cust-1")}, ""},
		{"no token", &Customer{ID: "cust-1"}, ""},
		{"unknown customer", &Customer{ID: "cust-9", Token: token(secret, "cust-9")}, ""},
		{"anonymous", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeModel{tokens: []string{"You are on a plan [1]."}}
			s := New(Config{IdentitySecret: secret, Profiles: profiles, Logger: quietLogger()},
				&fakeRetriever{result: hits()}, m, nil)
			_, err := s.Answer(context.Background(), ChatRequest{Message: "Which plan am I on?", Customer: tt.customer}, nil)
			require.NoError(t, err)
			prompts := m.prompts()
			require.Len(t, prompts, 1)
			var all strings.Builder
			for _, msg := range prompts[0] {
				all.WriteString(msg.Content)
			}
			for _, name := range []string{"Ada Canary-7731", "Bob Canary-4409"} {
				if name == tt.want {
					assert.Contains(t, all.String(), name)
				} else {
					assert.NotContains(t, all.String(), name, "no other customer's data")
				}
			}
			user := prompts[0][len(prompts[0])-1].Content
			assert.Equal(t, tt.want != "", strings.Contains(user, "<customer>"), "the profile block")
		})
	}
}
