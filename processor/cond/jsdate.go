package cond

import (
	"errors"
	"fmt"
	"time"
)

// errNotISODate is the error of a string JavaScript's ISO date parsing
// refuses.
var errNotISODate = errors.New("not an ISO 8601 date: expected YYYY, YYYY-MM, YYYY-MM-DD, " +
	"optionally followed by THH:mm, THH:mm:ss or THH:mm:ss.sss and Z or ±HH:mm")

// ParseISODate parses s as JavaScript's Date does for the ECMAScript date
// time string format (ECMA-262 §21.4.1.32), which is how Learning Locker
// reads a {"$dte"} marker (new Date(s)) and how mongoose casts a string
// compared with a Date field. It returns Unix milliseconds.
//
// Accepted: YYYY, YYYY-MM, YYYY-MM-DD, or ±YYYYYY for the year, optionally
// followed by T (or a space) and HH:mm, HH:mm:ss or HH:mm:ss.f… (fractions
// beyond milliseconds are truncated, as V8 does), and Z or ±HH:mm. 24:00
// is the end of the day. Forms without an offset are UTC: for date-only
// forms that is what JavaScript does; for date-time forms JavaScript uses
// the server's local zone, which on Learning Locker's servers is UTC.
// Other strings, which V8 would try to read with its legacy heuristics,
// are an error.
func ParseISODate(s string) (int64, error) {
	p := isoParser{s: s}
	year, ok := p.year()
	if !ok {
		return 0, errNotISODate
	}
	month, day := 1, 1
	if p.eat('-') {
		if month, ok = p.digits(2); !ok || month < 1 || month > 12 {
			return 0, errNotISODate
		}
		if p.eat('-') {
			if day, ok = p.digits(2); !ok || day < 1 || day > daysIn(year, month) {
				return 0, errNotISODate
			}
		}
	}
	var hour, minute, sec, nanos int
	offset := 0
	if p.eat('T') || p.eat(' ') {
		if hour, ok = p.digits(2); !ok || !p.eat(':') {
			return 0, errNotISODate
		}
		if minute, ok = p.digits(2); !ok || minute > 59 {
			return 0, errNotISODate
		}
		if p.eat(':') {
			if sec, ok = p.digits(2); !ok || sec > 59 {
				return 0, errNotISODate
			}
			if p.eat('.') {
				if nanos, ok = p.fraction(); !ok {
					return 0, errNotISODate
				}
			}
		}
		if hour > 24 || hour == 24 && (minute != 0 || sec != 0 || nanos != 0) {
			return 0, errNotISODate
		}
		switch {
		case p.eat('Z'):
		case p.peek('+'), p.peek('-'):
			sign := 1
			if p.eat('-') {
				sign = -1
			} else {
				p.eat('+')
			}
			oh, ok1 := p.digits(2)
			colon := p.eat(':')
			om, ok2 := p.digits(2)
			if !ok1 || !colon || !ok2 || oh > 23 || om > 59 {
				return 0, errNotISODate
			}
			offset = sign * (oh*3600 + om*60)
		}
	}
	if p.i != len(s) {
		return 0, errNotISODate
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC)
	t = t.Add(-time.Duration(offset) * time.Second)
	ms := t.UnixMilli()
	// ECMAScript's time range: ±8.64e15 ms around the epoch.
	if ms > 8.64e15 || ms < -8.64e15 {
		return 0, fmt.Errorf("date %q is outside JavaScript's date range", s)
	}
	return ms, nil
}

// isoParser reads an ISO date string from left to right.
type isoParser struct {
	s string
	i int
}

func (p *isoParser) peek(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

func (p *isoParser) eat(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

// digits reads exactly n decimal digits.
func (p *isoParser) digits(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(p.s[p.i : p.i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

// year reads YYYY or an expanded ±YYYYYY year (-000000 is invalid).
func (p *isoParser) year() (int, bool) {
	if p.peek('+') || p.peek('-') {
		neg := p.eat('-')
		if !neg {
			p.eat('+')
		}
		y, ok := p.digits(6)
		if !ok || neg && y == 0 {
			return 0, false
		}
		if neg {
			y = -y
		}
		return y, true
	}
	return p.digits(4)
}

// fraction reads one or more digits of a fraction of a second, keeping
// milliseconds.
func (p *isoParser) fraction() (int, bool) {
	start := p.i
	ms, scale := 0, 100
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		ms += int(p.s[p.i]-'0') * scale
		scale /= 10
		p.i++
	}
	return ms * int(time.Millisecond), p.i > start
}

// daysIn returns the number of days of a month of the proleptic Gregorian
// calendar.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
