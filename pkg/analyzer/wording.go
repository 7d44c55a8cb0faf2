package analyzer

import (
	"fmt"
	"strings"
)

// Wording helpers: how steps, channels and lists read in a finding's message.

// stepTitle names a step at the start of a sentence by what it is: `SMS "Reminder"`, `Email
// "Offer"`, `Step "Tag it"`, or `Step s4` when it has no name.
func stepTitle(s *Step) string {
	if s != nil && s.Kind == KindMessage && s.Message != nil {
		return capitalize(channelName(s.Message.Channel)) + " " + stepLabel(s)
	}
	if s != nil && s.Name != "" {
		return "Step " + stepLabel(s)
	}
	return capitalize(stepLabel(s))
}

// channelName is how a message channel reads in a sentence: "SMS", "email".
func channelName(channel string) string {
	switch channel {
	case ChannelSMS:
		return "SMS"
	case ChannelEmail:
		return "email"
	case ChannelCall:
		return "call"
	case ChannelVoicemail:
		return "voicemail"
	case ChannelWhatsApp:
		return "WhatsApp message"
	case ChannelSocial:
		return "social message"
	case ChannelReview:
		return "review request"
	case "":
		return "message"
	}
	return channel + " message"
}

// valuesShown is how many values a message quotes before counting the rest.
const valuesShown = 5

// quotedValues quotes up to five values for a message: `"a", "b" and 2 more`.
func quotedValues(values []string) string { return quotedFirst(values, len(values)) }

// quotedFirst quotes up to five values of a list of total values, saying how many more there are.
func quotedFirst(first []string, total int) string {
	quoted := make([]string, 0, min(len(first), valuesShown))
	for i, v := range first {
		if i == valuesShown {
			break
		}
		quoted = append(quoted, fmt.Sprintf("%q", v))
	}
	if total > len(quoted) {
		return strings.Join(quoted, ", ") + fmt.Sprintf(" and %d more", total-len(quoted))
	}
	return joinLabels(quoted)
}
