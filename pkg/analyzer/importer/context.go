package importer

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// contextKeys are the keys, in either dialect, that describe the location's objects. The bundle also
// spells templates as emailTemplates and smsTemplates, and some keys in snake case.
var contextKeys = []string{
	"tags", "customFields", "custom_fields", "customValues", "custom_values", "calendars", "users",
	"pipelines", "forms", "surveys", "templates", "emailTemplates", "email_templates", "smsTemplates",
	"sms_templates", "phoneNumbers", "phone_numbers", "smsCompliance", "sms_compliance",
}

// readContext reads the location context from an object holding the context keys (a builder
// envelope's "context", or a bundle's top level). It returns nil when none of the keys is present. An
// absent or null key stays nil (unknown); an empty list stays empty (the location has none). A key of
// the wrong type is an *Error: reading it as "none" would make every reference look missing. Every
// list's entries count towards Options.MaxContextObjects.
func (p *parser) readContext(f fields, path string) (*analyzer.Context, error) {
	present := false
	for _, k := range contextKeys {
		if f.has(k) {
			present = true
			break
		}
	}
	if !present {
		return nil, nil
	}
	c := &analyzer.Context{}
	var err error
	pick := func(keys ...string) (string, any) {
		for _, k := range keys {
			if f.has(k) {
				return k, f.value(k)
			}
		}
		return "", nil
	}
	// list returns the items of a context key given as an array, or as an object of id or name to
	// item (read in key order, the key becoming the item's id when the item has none).
	list := func(keys ...string) ([]any, string, bool) {
		if err != nil {
			return nil, "", false
		}
		k, v := pick(keys...)
		switch t := v.(type) {
		case nil:
			return nil, "", false
		case []any:
			if err = p.countContext(len(t), path+"."+k); err != nil {
				return nil, "", false
			}
			return t, k, true
		case map[string]any:
			if err = p.countContext(len(t), path+"."+k); err != nil {
				return nil, "", false
			}
			items := make([]any, 0, len(t))
			for _, id := range sortedKeys(t) {
				item := t[id]
				if o := asObj(item); o != nil {
					if !o.has("id", "_id") {
						withID := obj{"id": id}
						for key, val := range o {
							withID[key] = val
						}
						item = map[string]any(withID)
					}
				} else if s, ok := scalarString(item); ok {
					item = map[string]any{"id": id, "name": s}
				}
				items = append(items, item)
			}
			return items, k, true
		}
		if err == nil {
			err = errorf(path+"."+k, "expected an array, got %s", kindOf(f[k]))
		}
		return nil, "", false
	}

	if items, _, ok := list("tags"); ok {
		c.Tags = []string{}
		for _, it := range items {
			if o := asObj(it); o != nil {
				if s := o.str("name", "tag", "label"); s != "" {
					c.Tags = append(c.Tags, s)
				}
			} else if s, ok := scalarString(it); ok && strings.TrimSpace(s) != "" {
				c.Tags = append(c.Tags, s)
			}
		}
	}
	if items, _, ok := list("customFields", "custom_fields"); ok {
		c.CustomFields = []analyzer.CustomField{}
		for _, it := range items {
			if o := asObj(it); o != nil {
				c.CustomFields = append(c.CustomFields, analyzer.CustomField{
					ID:       o.str("id", "_id"),
					Name:     o.str("name", "label"),
					Key:      unbrace(o.str("fieldKey", "key", "field_key")),
					DataType: o.str("dataType", "data_type", "type"),
				})
			} else if s, ok := scalarString(it); ok && s != "" {
				c.CustomFields = append(c.CustomFields, analyzer.CustomField{Key: unbrace(s)})
			}
		}
	}
	c.CustomValues, err = p.readCustomValues(f, path, err)
	if items, _, ok := list("calendars"); ok {
		c.Calendars = objects(items)
	}
	if items, _, ok := list("users"); ok {
		c.Users = []analyzer.Object{}
		for _, it := range items {
			if o := asObj(it); o != nil {
				name := o.str("name")
				if name == "" {
					name = strings.TrimSpace(o.str("firstName") + " " + o.str("lastName"))
				}
				if name == "" {
					name = o.str("email")
				}
				c.Users = append(c.Users, analyzer.Object{ID: o.str("id", "_id", "userId"), Name: name})
			} else if s, ok := scalarString(it); ok && s != "" {
				c.Users = append(c.Users, analyzer.Object{ID: s})
			}
		}
	}
	if items, k, ok := list("pipelines"); ok {
		c.Pipelines = []analyzer.Pipeline{}
		for i, it := range items {
			if o := asObj(it); o != nil {
				stages := o.list("stages")
				if err = p.countContext(len(stages), fmt.Sprintf("%s.%s[%d].stages", path, k, i)); err != nil {
					break
				}
				c.Pipelines = append(c.Pipelines, analyzer.Pipeline{ID: o.str("id", "_id"), Name: o.str("name"), Stages: objects(stages)})
			}
		}
	}
	if items, _, ok := list("forms"); ok {
		c.Forms = objects(items)
	}
	if items, _, ok := list("surveys"); ok {
		c.Surveys = objects(items)
	}
	for _, keys := range [][]string{{"templates"}, {"emailTemplates", "email_templates"}, {"smsTemplates", "sms_templates"}} {
		if items, _, ok := list(keys...); ok {
			if c.Templates == nil {
				c.Templates = []analyzer.Object{}
			}
			c.Templates = append(c.Templates, objects(items)...)
		}
	}
	if items, _, ok := list("phoneNumbers", "phone_numbers"); ok {
		c.PhoneNumbers = []analyzer.PhoneNumber{}
		for _, it := range items {
			c.PhoneNumbers = append(c.PhoneNumbers, phoneNumber(it))
		}
	}
	if k, v := pick("smsCompliance", "sms_compliance"); v != nil {
		o := asObj(v)
		if o == nil {
			if err == nil {
				err = errorf(path+"."+k, "expected an object, got %s", kindOf(f[k]))
			}
		} else {
			days, _ := o.number("reinsertAfterDays", "reinsert_after_days")
			c.SMSCompliance = &analyzer.SMSCompliance{
				Enabled:                    o.truthy("enabled"),
				AutoAppendOptOut:           o.truthy("autoAppendOptOut"),
				OptOutMessage:              o.str("optOutMessage"),
				AppendSenderIdentification: o.truthy("appendSenderIdentification"),
				SenderIdentification:       o.str("senderIdentification"),
				ApplyTo:                    o.str("applyTo"),
				ReinsertAfterDays:          clampInt(days),
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// readCustomValues reads custom values: the builder's list of {id, name, fieldKey, value}, or the
// bundle's object of display name to value, whose merge key GHL derives from the name.
func (p *parser) readCustomValues(f fields, path string, prev error) ([]analyzer.CustomValue, error) {
	if prev != nil {
		return nil, prev
	}
	key := ""
	for _, k := range []string{"customValues", "custom_values"} {
		if f.has(k) {
			key = k
			break
		}
	}
	if key == "" {
		return nil, prev
	}
	out := []analyzer.CustomValue{}
	switch t := f.value(key).(type) {
	case []any:
		if err := p.countContext(len(t), path+"."+key); err != nil {
			return nil, err
		}
		for _, it := range t {
			o := asObj(it)
			if o == nil {
				continue
			}
			cv := analyzer.CustomValue{
				ID:    o.str("id", "_id"),
				Name:  o.str("name"),
				Key:   unbrace(o.str("fieldKey", "key", "field_key")),
				Value: valueText(o.get("value")),
			}
			if cv.Key == "" && cv.Name != "" {
				cv.Key = "custom_values." + slug(cv.Name)
			}
			out = append(out, cv)
		}
	case map[string]any:
		if err := p.countContext(len(t), path+"."+key); err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(t) {
			out = append(out, analyzer.CustomValue{Name: name, Key: "custom_values." + slug(name), Value: valueText(t[name])})
		}
	default:
		return nil, errorf(fmt.Sprintf("%s.%s", path, key), "expected an array or an object, got %s", kindOf(f[key]))
	}
	return out, nil
}

// objects reads a list of {id, name} objects (or bare ids).
func objects(items []any) []analyzer.Object {
	out := []analyzer.Object{}
	for _, it := range items {
		if o := asObj(it); o != nil {
			out = append(out, analyzer.Object{ID: o.str("id", "_id"), Name: o.str("name", "title", "label")})
		} else if s, ok := scalarString(it); ok && s != "" {
			out = append(out, analyzer.Object{ID: s})
		}
	}
	return out
}

// phoneNumber reads a sending number. A number whose SMS capability is not stated is taken as able to
// send SMS, as GHL's numbers are by default.
func phoneNumber(v any) analyzer.PhoneNumber {
	o := asObj(v)
	if o == nil {
		s, _ := scalarString(v)
		return analyzer.PhoneNumber{Number: s, SMS: true}
	}
	p := analyzer.PhoneNumber{
		Number:    o.str("number", "phoneNumber", "phone"),
		Name:      o.str("name", "friendlyName", "label"),
		SMS:       true,
		IsDefault: o.truthy("isDefault", "default"),
	}
	if caps := o.child("capabilities"); caps != nil {
		if sms, ok := caps.flag("sms", "SMS"); ok {
			p.SMS = sms
		}
	} else if sms, ok := o.flag("sms", "smsCapable", "smsEnabled"); ok {
		p.SMS = sms
	}
	return p
}

// contextLocationID returns the locationId a context object names.
func contextLocationID(f fields) string {
	s, _ := scalarString(f.value("locationId"))
	return s
}

// rawField returns the encoded value of key, or nil when absent or null.
func rawField(f fields, key string) json.RawMessage {
	if !f.has(key) {
		return nil
	}
	return f[key]
}
