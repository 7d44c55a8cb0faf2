package analyzer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReservedKeywordMisuse(t *testing.T) {
	tests := []struct {
		name string
		body string
		// misused lists the keywords asked for another purpose than opting out, in order.
		misused []string
		optOut  bool
	}{
		{name: "conventional opt-out", body: "Acme: 20% off today. Reply STOP to opt out.", optOut: true},
		{name: "keyword alone", body: "Acme news. Txt STOP", optOut: true},
		{name: "stop receiving", body: "Text STOP to stop receiving these messages.", optOut: true},
		{name: "end these messages", body: "Reply END to end these messages.", optOut: true},
		{name: "unsubscribe wording without keyword", body: "Reply with your answer, or unsubscribe anytime.", optOut: true},
		{name: "cancel an appointment", body: "Your appointment is at 3pm. Reply C to confirm or CANCEL to cancel.", misused: []string{"CANCEL"}},
		{name: "cancel with an object", body: "Reply CANCEL to cancel your booking", misused: []string{"CANCEL"}},
		{name: "bare cancel outside a booking", body: "Weekly tips from Acme. Reply CANCEL to cancel.", optOut: true},
		{name: "quoted lower-case keyword", body: "Reply 'quit' to leave the contest.", misused: []string{"QUIT"}},
		{name: "stop for something else still opts out", body: "Reply STOP to pause your order", misused: []string{"STOP"}, optOut: true},
		{name: "two keywords in one sentence", body: "Reply STOP to pause your order, or END to end the survey.", misused: []string{"STOP", "END"}, optOut: true},
		{name: "capital word without a reply verb", body: "That's the END of our sale!", optOut: false},
		{name: "keyword in another sentence than the verb", body: "Reply YES to confirm. The END.", optOut: false},
		{name: "lower-case keyword right after the verb", body: "please reply cancel to cancel your visit", misused: []string{"CANCEL"}},
		{name: "lower-case word that is not asked for", body: "Reply to us, we never stop helping.", optOut: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words := copyWords(tt.body)
			var misused []string
			for _, r := range keywordRequests(words) {
				if !isOptOutPurpose(r.Purpose, words) {
					misused = append(misused, r.Keyword)
				}
			}
			require.Equal(t, tt.misused, misused)
			require.Equal(t, tt.optOut, hasOptOutWording(words), "opt-out wording")
		})
	}
}

func TestHasSenderName(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		senderID string
		want     bool
	}{
		{name: "it's", body: "Hi {{contact.first_name}}, it's Acme. Reply STOP to opt out.", want: true},
		{name: "this is", body: "Hello, this is Dr. Lee's office.", want: true},
		{name: "from a merge field", body: "A reminder from {{location.name}}.", want: true},
		{name: "location merge field", body: "{{location.name}}: your code is 1234", want: true},
		{name: "configured sender identification", body: "ACME DENTAL: see you soon", senderID: "Acme Dental", want: true},
		{name: "sign-off line", body: "See you soon!\n- Acme Dental", want: true},
		{name: "from a weekday", body: "Our sale runs from Monday.", want: false},
		{name: "nothing", body: "Thanks for your interest!", want: false},
		{name: "lower-case after from", body: "a note from us", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, hasSenderName(tt.body, copyWords(tt.body), tt.senderID))
		})
	}
}

func TestEmailFooter(t *testing.T) {
	tests := []struct {
		name         string
		html         string
		unsubscribe  bool
		postalAdress bool
	}{
		{name: "merge fields", html: `<a href="{{unsubscribe_link}}">x</a> {{location.full_address}}`, unsubscribe: true, postalAdress: true},
		{name: "written out", html: `Acme, 250 W. 57th Street, New York. <a href="#">Unsubscribe</a>`, unsubscribe: true, postalAdress: true},
		{name: "state and ZIP", html: `Austin, TX 78701 - manage preferences`, unsubscribe: true, postalAdress: true},
		{name: "PO box", html: `P.O. Box 12, Springfield`, postalAdress: true},
		{name: "custom value address", html: `{{ custom_values.business_address }}`, postalAdress: true},
		{name: "neither", html: `<p>Spring sale on everything!</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.unsubscribe, hasUnsubscribeLink(tt.html), "unsubscribe")
			require.Equal(t, tt.postalAdress, hasPostalAddress(tt.html), "postal address")
		})
	}
}
