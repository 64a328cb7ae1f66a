package profile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// LineError is a bad row of an import file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// maxLine bounds one line of a JSONL file (a profile and its key).
const maxLine = MaxDocBytes + 1024

// ReadJSONL reads one JSON object per line, each with its customer id in
// "id" or "customer_id" (a string or a number) and the profile's fields
// beside it; blank lines are skipped. It returns the good records and an
// error per bad line; a caller that imports all or nothing checks bad first.
func ReadJSONL(r io.Reader) (recs []Record, bad []*LineError, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(line) == 0 {
			continue
		}
		rec, err := jsonlRecord(line)
		if err == nil {
			err = dupCheck(seen, rec.ID, n)
		}
		if err != nil {
			bad = append(bad, &LineError{Line: n, Err: err})
			continue
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("profile: a line is longer than %d KiB", maxLine>>10)
		}
		return nil, nil, fmt.Errorf("profile: read: %w", err)
	}
	return recs, bad, nil
}

func jsonlRecord(line []byte) (Record, error) {
	doc, err := Normalize(line)
	if err != nil {
		return Record{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var keys map[string]any
	if err := dec.Decode(&keys); err != nil {
		return Record{}, ErrNotObject
	}
	var id string
	for _, k := range []string{"customer_id", "id"} {
		switch v := keys[k].(type) {
		case string:
			id = v
		case json.Number:
			id = v.String()
		case nil:
			continue
		default:
			return Record{}, fmt.Errorf("%q must be a string", k)
		}
		break
	}
	if id == "" {
		return Record{}, errors.New(`no customer id: give it as "id" or "customer_id"`)
	}
	if !ValidID(id) {
		return Record{}, ErrInvalidID
	}
	return Record{ID: id, Doc: doc}, nil
}

func dupCheck(seen map[string]int, id string, line int) error {
	if first, ok := seen[id]; ok {
		return fmt.Errorf("customer id %q is already on line %d", id, first)
	}
	seen[id] = line
	return nil
}

// ReadCSV reads a header row that names an "id" or "customer_id" column
// and the fields, then one profile per row; empty cells are left out.
// Line numbers count physical lines, as an editor shows them.
func ReadCSV(r io.Reader) (recs []Record, bad []*LineError, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, with the line number
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("profile: the CSV file is empty (it needs a header row)")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("profile: CSV header: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	idCol := -1
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		switch strings.ToLower(header[i]) {
		case "customer_id":
			idCol = i
		case "id":
			if idCol < 0 || !strings.EqualFold(header[idCol], "customer_id") {
				idCol = i
			}
		}
	}
	if idCol < 0 {
		return nil, nil, errors.New(`profile: the CSV header must name an "id" or "customer_id" column`)
	}
	seen := map[string]int{}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, &LineError{Line: pe.Line, Err: pe.Err})
				continue
			}
			return nil, nil, fmt.Errorf("profile: read CSV: %w", err)
		}
		if len(row) != len(header) {
			bad = append(bad, &LineError{Line: line, Err: fmt.Errorf("%d cells, but the header has %d", len(row), len(header))})
			continue
		}
		id := strings.TrimSpace(row[idCol])
		if !ValidID(id) {
			bad = append(bad, &LineError{Line: line, Err: ErrInvalidID})
			continue
		}
		if err := dupCheck(seen, id, line); err != nil {
			bad = append(bad, &LineError{Line: line, Err: err})
			continue
		}
		var b bytes.Buffer
		b.WriteByte('{')
		first := true
		for i, cell := range row {
			cell = strings.TrimSpace(cell)
			if i == idCol || cell == "" || header[i] == "" {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			k, _ := json.Marshal(header[i])
			v, _ := json.Marshal(cell)
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		if b.Len() > MaxDocBytes {
			bad = append(bad, &LineError{Line: line, Err: ErrTooLarge})
			continue
		}
		recs = append(recs, Record{ID: id, Doc: b.Bytes()})
	}
	return recs, bad, nil
}
