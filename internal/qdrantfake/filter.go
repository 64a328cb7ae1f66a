package qdrantfake

import (
	qd "github.com/qdrant/go-client/qdrant"
)

func matchesAll(filters []*qd.Filter, p *point) (bool, error) {
	for _, f := range filters {
		ok, err := matches(f, p)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// matches evaluates a filter as Qdrant does: every must condition, at least
// one should condition (when there are any), no must_not condition.
func matches(f *qd.Filter, p *point) (bool, error) {
	if f == nil {
		return true, nil
	}
	if f.MinShould != nil {
		return false, unimplemented("min_should")
	}
	for _, c := range f.Must {
		ok, err := condition(c, p)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, c := range f.MustNot {
		ok, err := condition(c, p)
		if err != nil {
			return false, err
		}
		if ok {
			return false, nil
		}
	}
	if len(f.Should) == 0 {
		return true, nil
	}
	for _, c := range f.Should {
		ok, err := condition(c, p)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func condition(c *qd.Condition, p *point) (bool, error) {
	switch v := c.GetConditionOneOf().(type) {
	case *qd.Condition_Filter:
		return matches(v.Filter, p)
	case *qd.Condition_HasId:
		for _, id := range v.HasId.GetHasId() {
			if idKey(id) == idKey(p.id) {
				return true, nil
			}
		}
		return false, nil
	case *qd.Condition_Field:
		return field(v.Field, p)
	}
	return false, unimplemented("this filter condition")
}

// field evaluates a match condition on a payload field; on an array the
// condition holds when it holds for any element.
func field(fc *qd.FieldCondition, p *point) (bool, error) {
	if fc.Match == nil || fc.Range != nil || fc.GeoBoundingBox != nil || fc.GeoRadius != nil ||
		fc.ValuesCount != nil || fc.GeoPolygon != nil || fc.DatetimeRange != nil || fc.IsEmpty != nil || fc.IsNull != nil {
		return false, unimplemented("field conditions other than match")
	}
	v := p.payload[fc.Key]
	values := []*qd.Value{v}
	if l := v.GetListValue(); l != nil {
		values = l.GetValues()
	}
	switch m := fc.Match.GetMatchValue().(type) {
	case *qd.Match_ExceptKeywords:
		// Qdrant: true when the field holds a value that is none of them
		// (or no value at all).
		if v == nil {
			return true, nil
		}
		for _, x := range values {
			s, ok := x.GetKind().(*qd.Value_StringValue)
			if !ok || !contains(m.ExceptKeywords.GetStrings(), s.StringValue) {
				return true, nil
			}
		}
		return false, nil
	}
	for _, x := range values {
		if x == nil {
			continue
		}
		switch m := fc.Match.GetMatchValue().(type) {
		case *qd.Match_Keyword:
			if s, ok := x.GetKind().(*qd.Value_StringValue); ok && s.StringValue == m.Keyword {
				return true, nil
			}
		case *qd.Match_Keywords:
			if s, ok := x.GetKind().(*qd.Value_StringValue); ok && contains(m.Keywords.GetStrings(), s.StringValue) {
				return true, nil
			}
		case *qd.Match_Integer:
			if i, ok := x.GetKind().(*qd.Value_IntegerValue); ok && i.IntegerValue == m.Integer {
				return true, nil
			}
		case *qd.Match_Boolean:
			if b, ok := x.GetKind().(*qd.Value_BoolValue); ok && b.BoolValue == m.Boolean {
				return true, nil
			}
		default:
			return false, unimplemented("this match (text, phrase, integers)")
		}
	}
	return false, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
