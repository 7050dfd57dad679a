package llamabench

import (
	"fmt"
	"strings"
)

// sqlTok is one token of llama-bench's SQL output.
type sqlTok struct {
	kind byte // 'i' identifier/keyword/number, 's' string, 'p' punctuation, 0 end
	text string
	line int
}

type sqlLexer struct {
	src  string
	pos  int
	line int
	name string
}

func (l *sqlLexer) next() (sqlTok, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == '\n' {
			l.line++
			l.pos++
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' {
			l.pos++
			continue
		}
		if c == '-' && strings.HasPrefix(l.src[l.pos:], "--") { // comment
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
			continue
		}
		break
	}
	if l.pos >= len(l.src) {
		return sqlTok{line: l.line}, nil
	}
	start, line := l.pos, l.line
	c := l.src[l.pos]
	switch {
	case c == '(' || c == ')' || c == ',' || c == ';':
		l.pos++
		return sqlTok{kind: 'p', text: string(c), line: line}, nil
	case c == '\'':
		var b strings.Builder
		l.pos++
		for {
			if l.pos >= len(l.src) {
				return sqlTok{}, &ParseError{Name: l.name, Line: line, Format: FormatSQL, Msg: "string value never closed (truncated output)", Err: ErrTruncated}
			}
			ch := l.src[l.pos]
			if ch == '\'' {
				if l.pos+1 < len(l.src) && l.src[l.pos+1] == '\'' {
					b.WriteByte('\'')
					l.pos += 2
					continue
				}
				l.pos++
				return sqlTok{kind: 's', text: b.String(), line: line}, nil
			}
			if ch == '\n' {
				l.line++
			}
			b.WriteByte(ch)
			l.pos++
		}
	case isIdent(c):
		for l.pos < len(l.src) && isIdent(l.src[l.pos]) {
			l.pos++
		}
		return sqlTok{kind: 'i', text: l.src[start:l.pos], line: line}, nil
	}
	return sqlTok{}, &ParseError{Name: l.name, Line: line, Format: FormatSQL, Msg: fmt.Sprintf("unexpected character %q", c)}
}

func isIdent(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c == '+' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// parseSQL parses llama-bench -o sql: a CREATE TABLE llama_bench statement
// followed by one INSERT per test, all values quoted.
func parseSQL(data []byte, name string, first int) ([]Record, error) {
	l := &sqlLexer{src: string(data), line: first, name: name}
	var toks []sqlTok
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		if t.kind == 0 {
			toks = append(toks, t)
			break
		}
		toks = append(toks, t)
	}
	p := &sqlParser{toks: toks, name: name}
	var recs []Record
	var created []string
	for p.peek().kind != 0 {
		kw := strings.ToUpper(p.peek().text)
		switch kw {
		case "CREATE":
			cols, err := p.create()
			if err != nil {
				return nil, err
			}
			created = cols
		case "INSERT":
			line := p.peek().line
			cols, vals, err := p.insert()
			if err != nil {
				return nil, err
			}
			if created != nil && len(cols) != len(created) {
				return nil, &ParseError{Name: name, Line: line, Format: FormatSQL, Msg: fmt.Sprintf("INSERT names %d columns, CREATE TABLE declared %d", len(cols), len(created))}
			}
			r := Record{Fields: map[string]any{}}
			for i, c := range cols {
				if vals[i] == nil {
					continue // NULL: absent
				}
				if _, dup := r.Fields[c]; !dup {
					r.Order = append(r.Order, c)
				}
				r.Fields[c] = *vals[i]
			}
			if err := r.finish(FormatSQL, name, line); err != nil {
				return nil, err
			}
			recs = append(recs, r)
		default:
			t := p.peek()
			return nil, &ParseError{Name: name, Line: t.line, Format: FormatSQL, Msg: fmt.Sprintf("unexpected %q: want CREATE TABLE or INSERT INTO llama_bench", t.text)}
		}
	}
	return recs, nil
}

type sqlParser struct {
	toks []sqlTok
	i    int
	name string
}

func (p *sqlParser) peek() sqlTok { return p.toks[p.i] }

func (p *sqlParser) take() sqlTok {
	t := p.toks[p.i]
	if t.kind != 0 {
		p.i++
	}
	return t
}

func (p *sqlParser) fail(t sqlTok, want string) error {
	if t.kind == 0 {
		return &ParseError{Name: p.name, Line: t.line, Format: FormatSQL, Msg: "statement cut short, want " + want + " (truncated output)", Err: ErrTruncated}
	}
	return &ParseError{Name: p.name, Line: t.line, Format: FormatSQL, Msg: fmt.Sprintf("want %s, got %q", want, t.text)}
}

func (p *sqlParser) expect(kind byte, text string) error {
	t := p.take()
	if t.kind != kind || (text != "" && !strings.EqualFold(t.text, text)) {
		return p.fail(t, fmt.Sprintf("%q", text))
	}
	return nil
}

// list parses a parenthesised list: "(", then item (which takes one item's
// tokens) separated by "," up to the closing ")".
func (p *sqlParser) list(item func() error) error {
	if err := p.expect('p', "("); err != nil {
		return err
	}
	for {
		if err := item(); err != nil {
			return err
		}
		t := p.take()
		if t.kind == 'p' && t.text == "," {
			continue
		}
		if t.kind == 'p' && t.text == ")" {
			return nil
		}
		return p.fail(t, "',' or ')'")
	}
}

// create parses CREATE TABLE [IF NOT EXISTS] llama_bench (col TYPE, ...);
func (p *sqlParser) create() ([]string, error) {
	for _, w := range []string{"CREATE", "TABLE"} {
		if err := p.expect('i', w); err != nil {
			return nil, err
		}
	}
	if strings.EqualFold(p.peek().text, "IF") {
		for _, w := range []string{"IF", "NOT", "EXISTS"} {
			if err := p.expect('i', w); err != nil {
				return nil, err
			}
		}
	}
	if t := p.take(); t.kind != 'i' {
		return nil, p.fail(t, "a table name")
	}
	var cols []string
	err := p.list(func() error {
		t := p.take()
		if t.kind != 'i' {
			return p.fail(t, "a column name")
		}
		cols = append(cols, t.text)
		for p.peek().kind == 'i' { // type words
			p.take()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := p.expect('p', ";"); err != nil {
		return nil, err
	}
	return cols, nil
}

// insert parses INSERT INTO llama_bench (cols) VALUES (vals);
func (p *sqlParser) insert() ([]string, []*string, error) {
	start := p.peek()
	for _, w := range []string{"INSERT", "INTO"} {
		if err := p.expect('i', w); err != nil {
			return nil, nil, err
		}
	}
	if t := p.take(); t.kind != 'i' {
		return nil, nil, p.fail(t, "a table name")
	}
	var cols []string
	err := p.list(func() error {
		t := p.take()
		if t.kind != 'i' {
			return p.fail(t, "a column name")
		}
		cols = append(cols, t.text)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := p.expect('i', "VALUES"); err != nil {
		return nil, nil, err
	}
	var vals []*string
	err = p.list(func() error {
		t := p.take()
		switch {
		case t.kind == 's':
			s := t.text
			vals = append(vals, &s)
		case t.kind == 'i' && strings.EqualFold(t.text, "NULL"):
			vals = append(vals, nil)
		case t.kind == 'i':
			s := t.text
			vals = append(vals, &s)
		default:
			return p.fail(t, "a value")
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := p.expect('p', ";"); err != nil {
		return nil, nil, err
	}
	if len(vals) != len(cols) {
		return nil, nil, &ParseError{Name: p.name, Line: start.line, Format: FormatSQL, Msg: fmt.Sprintf("INSERT has %d columns but %d values", len(cols), len(vals))}
	}
	return cols, vals, nil
}
