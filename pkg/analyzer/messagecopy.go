package analyzer

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What the text of a message says, read the way a carrier or a regulator reads it: whether it tells
// the contact how to opt out, who is sending it, whether it asks for a reserved opt-out keyword for
// some other purpose, and whether a marketing email has an unsubscribe link and a postal address.
// These are heuristics over free text; each says in its comment what it accepts.

// copyWord is one word of a message with what surrounds it.
type copyWord struct {
	// Text is the word as written; Lower is it in lower case.
	Text, Lower string
	// Quoted is true when a quote mark opens or closes right at the word ("STOP", 'cancel').
	Quoted bool
	// Sentence numbers the sentence the word is in (split at . ! ? and line breaks).
	Sentence int
}

// copyWords splits text into words (letters, digits and apostrophes inside a word) and numbers the
// sentences, in one pass. Rules call it on every message, so it lower-cases the text once and, for
// ASCII text (where offsets agree), slices each word's lower case from it instead of allocating.
func copyWords(text string) []copyWord {
	words := make([]copyWord, 0, 8+len(text)/6)
	lower, ascii := strings.ToLower(text), isASCII(text)
	sentence := 0
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		// Apostrophes only continue a word, so trimming them shortens it at the end only.
		w := strings.TrimRight(text[start:end], "'’")
		if w != "" {
			lw := strings.ToLower(w)
			if ascii {
				lw = lower[start : start+len(w)]
			}
			quoted := isQuoteBefore(text, start) || isQuoteAt(text, start+len(w))
			words = append(words, copyWord{Text: w, Lower: lw, Quoted: quoted, Sentence: sentence})
		}
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || ((r == '\'' || r == '’') && start >= 0) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		switch r {
		case '.', '!', '?', '\n':
			sentence++
		}
	}
	flush(len(text))
	return words
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isQuoteBefore(text string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return isQuoteRune(r)
}

func isQuoteAt(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	return isQuoteRune(r)
}

func isQuoteRune(r rune) bool {
	switch r {
	case '"', '\'', '“', '”', '‘', '’', '«', '»':
		return true
	}
	return false
}

// isAllCaps reports whether a word is written in capitals, as keywords in SMS copy are.
func isAllCaps(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

// replyVerbs introduce a keyword the contact is asked to send.
var replyVerbs = map[string]bool{"reply": true, "text": true, "txt": true, "respond": true, "send": true, "type": true}

// optOutKeywords are the words carriers treat as an opt-out request (CTIA; GHL turns SMS DND on when
// a contact sends one).
var optOutKeywords = map[string]bool{"stop": true, "stopall": true, "unsubscribe": true, "cancel": true, "end": true, "quit": true}

// keywordRequest is a keyword the copy asks the contact to send, with the words that say what for.
type keywordRequest struct {
	Keyword string
	// Purpose is the rest of the keyword's sentence ("to cancel your appointment"), lower case.
	Purpose []string
}

// keywordRequests finds the opt-out keywords the copy asks the contact to send: a keyword in
// capitals or quotes, or right after a reply verb, with a reply verb ("reply", "text"...) earlier in
// the same sentence. "Reply C to confirm or CANCEL to cancel" asks for CANCEL; "The END of summer
// sale" asks for nothing.
func keywordRequests(words []copyWord) []keywordRequest {
	var out []keywordRequest
	verbSentence := -1
	for i, w := range words {
		if replyVerbs[w.Lower] {
			verbSentence = w.Sentence
			continue
		}
		if !optOutKeywords[w.Lower] || verbSentence != w.Sentence {
			continue
		}
		afterVerb := i > 0 && (replyVerbs[words[i-1].Lower] || words[i-1].Lower == "with")
		if !isAllCaps(w.Text) && !w.Quoted && !afterVerb {
			continue
		}
		req := keywordRequest{Keyword: strings.ToUpper(w.Text)}
		for _, p := range words[i+1:] {
			if p.Sentence != w.Sentence || optOutKeywords[p.Lower] && (isAllCaps(p.Text) || p.Quoted) {
				break
			}
			req.Purpose = append(req.Purpose, p.Lower)
		}
		// "Reply STOP to pause your order, or QUIT to...": the connective before the next keyword is
		// not part of the purpose.
		for n := len(req.Purpose); n > 0 && (req.Purpose[n-1] == "or" || req.Purpose[n-1] == "and"); n-- {
			req.Purpose = req.Purpose[:n-1]
		}
		out = append(out, req)
	}
	return out
}

// optOutObjects are what an opt-out stops: "stop these messages", "cancel all texts".
var optOutObjects = map[string]bool{
	"message": true, "messages": true, "msgs": true, "text": true, "texts": true, "sms": true, "alerts": true,
	"notifications": true, "reminders": true, "updates": true, "subscription": true, "marketing": true,
	"receiving": true, "getting": true, "communications": true, "contact": true,
}

// stopVerbs are verbs that, with a messaging object or alone, mean opting out.
var stopVerbs = map[string]bool{"stop": true, "end": true, "cancel": true, "quit": true, "unsubscribe": true, "unsub": true}

// bookingWords mark copy about an appointment, an order or a booking, where a bare "to cancel" or "to
// end" means cancelling that, not the texts.
var bookingWords = map[string]bool{
	"appointment": true, "appointments": true, "appt": true, "booking": true, "booked": true, "reservation": true,
	"visit": true, "session": true, "meeting": true, "consultation": true, "consult": true, "class": true,
	"order": true, "delivery": true, "confirm": true, "reschedule": true, "rsvp": true,
}

// isOptOutPurpose reports whether the purpose a keyword is asked for is opting out: nothing said
// (the keyword alone is the conventional opt-out), opt-out wording ("to opt out", "to unsubscribe",
// "to no longer receive..."), a stopping verb with a messaging object ("to stop these texts"), or a
// bare stopping verb with no object ("to stop"). A bare "to cancel", "to end" or "to quit" counts only
// when the rest of the copy is not about an appointment, order or booking, which it would then mean.
func isOptOutPurpose(purpose []string, copy []copyWord) bool {
	if len(purpose) == 0 {
		return true
	}
	for i, w := range purpose {
		switch {
		case w == "unsubscribe" || w == "unsub" || w == "optout":
			return true
		case w == "opt" && i+1 < len(purpose) && purpose[i+1] == "out":
			return true
		case w == "no" && i+1 < len(purpose) && purpose[i+1] == "longer":
			return true
		case stopVerbs[w]:
			// "stop these texts", "end all messages": the object follows within three words.
			for _, o := range purpose[i+1 : min(len(purpose), i+4)] {
				if optOutObjects[o] {
					return true
				}
			}
		}
	}
	rest := purpose
	if rest[0] == "to" {
		rest = rest[1:]
	}
	if len(rest) == 0 || !stopVerbs[rest[0]] || (len(rest) > 1 && rest[1] != "anytime" && rest[1] != "at") {
		return false
	}
	if rest[0] == "stop" || rest[0] == "unsubscribe" || rest[0] == "unsub" {
		return true
	}
	for _, w := range copy {
		if bookingWords[w.Lower] {
			return false
		}
	}
	return true
}

// hasOptOutWording reports whether SMS copy tells the contact how to opt out: it asks for STOP,
// STOPALL or UNSUBSCRIBE (or any opt-out keyword for an opt-out purpose), or says "opt out",
// "opt-out" or "unsubscribe".
func hasOptOutWording(words []copyWord) bool {
	for i, w := range words {
		switch {
		case w.Lower == "unsubscribe" || w.Lower == "optout":
			return true
		case w.Lower == "opt" && i+1 < len(words) && words[i+1].Lower == "out":
			return true
		}
	}
	for _, r := range keywordRequests(words) {
		if r.Keyword == "STOP" || r.Keyword == "STOPALL" || isOptOutPurpose(r.Purpose, words) {
			return true
		}
	}
	return false
}

// senderIntro are words after which a sender names itself: "this is Acme", "it's Dr. Lee", "from
// Acme Dental", "the team at Acme", "regards, Acme".
var senderIntro = [][]string{{"this", "is"}, {"it's"}, {"it’s"}, {"it", "is"}, {"from"}, {"team", "at"}, {"regards"}}

// calendarWords follow "from" without naming a sender: "from Monday", "from March".
var calendarWords = map[string]bool{
	"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true,
	"january": true, "february": true, "march": true, "april": true, "may": true, "june": true, "july": true,
	"august": true, "september": true, "october": true, "november": true, "december": true, "today": true, "tomorrow": true,
}

// hasSenderName reports whether SMS copy says who is sending it: the location's configured sender
// identification text, a location or business-name merge field, a capitalised name (or a merge
// field) after "this is", "it's", "from", "the team at" or "regards", or a sign-off line starting
// with a dash ("- Acme Dental").
func hasSenderName(body string, words []copyWord, senderID string) bool {
	if id := strings.TrimSpace(senderID); id != "" && strings.Contains(strings.ToLower(body), strings.ToLower(id)) {
		return true
	}
	for _, m := range scanMergeFields(nil, body) {
		ns, rest := m.namespace()
		rest = strings.ToLower(rest)
		switch {
		case ns == "location" && strings.Contains(rest, "name"),
			ns == "custom_values" && (strings.Contains(rest, "business") || strings.Contains(rest, "company") || strings.Contains(rest, "brand")):
			return true
		}
	}
	lower := strings.ToLower(body)
	for _, intro := range []string{"this is {{", "it's {{", "it’s {{", "from {{"} {
		if strings.Contains(lower, intro) {
			return true
		}
	}
	for i := range words {
		for _, intro := range senderIntro {
			if i+len(intro) >= len(words) {
				continue
			}
			match := true
			for k, iw := range intro {
				if words[i+k].Lower != iw {
					match = false
					break
				}
			}
			next := words[i+len(intro)]
			if match && next.Sentence == words[i].Sentence && startsUpper(next.Text) && !calendarWords[next.Lower] {
				return true
			}
		}
	}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		for _, dash := range []string{"-", "–", "—", "~"} {
			if rest, ok := strings.CutPrefix(line, dash); ok && startsUpper(strings.TrimSpace(rest)) {
				return true
			}
		}
	}
	return false
}

func startsUpper(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// hasUnsubscribeLink reports whether an email offers a way out: an unsubscribe merge field or link,
// or the words "unsubscribe", "opt out" or "manage preferences".
func hasUnsubscribeLink(text string) bool {
	lower := strings.ToLower(text)
	for _, s := range []string{"unsubscribe", "opt out", "opt-out", "optout", "manage preferences", "email preferences", "manage your preferences"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// streetTypes end a street address: "1 Main St", "250 W. 57th Street".
var streetTypes = map[string]bool{
	"st": true, "street": true, "ave": true, "avenue": true, "rd": true, "road": true, "blvd": true, "boulevard": true,
	"dr": true, "drive": true, "ln": true, "lane": true, "way": true, "ct": true, "court": true, "pl": true, "place": true,
	"pkwy": true, "parkway": true, "hwy": true, "highway": true, "suite": true, "ste": true, "sq": true, "square": true,
	"ter": true, "terrace": true, "cir": true, "circle": true,
}

// hasPostalAddress reports whether an email carries a postal address: a location address merge
// field ({{location.address}}, {{location.full_address}}, {{location.city}}...), a custom value whose
// key names an address, or an address written out: a house number followed within five words by a
// street type, a PO box, or a two-letter state code followed by a ZIP code.
func hasPostalAddress(text string) bool {
	for _, m := range scanMergeFields(nil, text) {
		ns, rest := m.namespace()
		rest = strings.ToLower(rest)
		switch ns {
		case "location", "business", "company":
			for _, part := range []string{"address", "city", "postal", "zip", "state"} {
				if strings.Contains(rest, part) {
					return true
				}
			}
		case "custom_values":
			if strings.Contains(rest, "address") {
				return true
			}
		}
	}
	words := copyWords(text)
	for i, w := range words {
		switch {
		case isDigits(w.Text, 1, 6):
			for _, after := range words[i+1 : min(len(words), i+6)] {
				if streetTypes[after.Lower] {
					return true
				}
			}
		case (w.Lower == "po" || (w.Lower == "p" && i+1 < len(words) && words[i+1].Lower == "o")) && slices.ContainsFunc(words[i+1:min(len(words), i+3)], func(b copyWord) bool { return b.Lower == "box" }):
			return true
		case len(w.Text) == 2 && isAllCaps(w.Text) && i+1 < len(words) && isDigits(words[i+1].Text, 5, 5):
			return true
		}
	}
	return false
}

// isDigits reports whether s is between lo and hi ASCII digits.
func isDigits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
