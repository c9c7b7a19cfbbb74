package cli

import (
	"errors"
	"strconv"
)

// flagSet parses options exactly as the standard flag package does
// (ContinueOnError, same syntax and error texts) for the three kinds the CLI
// has. The flag package itself costs ~25 KiB on mips: its usage printer is
// always linked and sorts flags with a generic sort. flags_test.go checks
// this parser against flag.FlagSet.
type flagSet struct{ o *opts }

// flagVar points at an option's destination; exactly one is set.
type flagVar struct {
	b *bool
	s *string
	i *int
}

var (
	errHelp  = errors.New("flag: help requested")
	errParse = errors.New("parse error")
	errRange = errors.New("value out of range")
)

// parse consumes flags up to the first non-flag argument or "--" and returns
// the rest, like flag.FlagSet's Parse followed by Args.
func (fs flagSet) parse(args []string) ([]string, error) {
	for len(args) > 0 {
		s := args[0]
		if len(s) < 2 || s[0] != '-' {
			return args, nil
		}
		minuses := 1
		if s[1] == '-' {
			minuses++
			if len(s) == 2 { // "--" ends the flags
				return args[1:], nil
			}
		}
		name := s[minuses:]
		if len(name) == 0 || name[0] == '-' || name[0] == '=' {
			return args, errors.New("bad flag syntax: " + s)
		}
		args = args[1:]
		value, hasValue := "", false
		for i := 1; i < len(name); i++ { // '=' cannot be first
			if name[i] == '=' {
				name, value, hasValue = name[:i], name[i+1:], true
				break
			}
		}
		v, ok := fs.lookup(name)
		if !ok {
			if name == "help" || name == "h" {
				return args, errHelp
			}
			return args, errors.New("flag provided but not defined: -" + name)
		}
		if v.b != nil {
			if !hasValue {
				*v.b = true
				continue
			}
			b, ok := parseBool(value)
			*v.b = b // set even on error, as flag does
			if !ok {
				return args, errors.New("invalid boolean value " + strconv.Quote(value) + " for -" + name + ": " + errParse.Error())
			}
			continue
		}
		if !hasValue && len(args) > 0 {
			value, hasValue, args = args[0], true, args[1:]
		}
		if !hasValue {
			return args, errors.New("flag needs an argument: -" + name)
		}
		if v.s != nil {
			*v.s = value
			continue
		}
		n, err := strconv.ParseInt(value, 0, strconv.IntSize)
		*v.i = int(n) // set even on error, as flag does
		if err != nil {
			why := errParse
			if errors.Is(err, strconv.ErrRange) {
				why = errRange
			}
			return args, errors.New("invalid value " + strconv.Quote(value) + " for flag -" + name + ": " + why.Error())
		}
	}
	return args, nil
}

// parseBool accepts what strconv.ParseBool accepts (flag's rule), without
// linking it: its error (a *NumError) is never shown, errParse is.
func parseBool(s string) (v, ok bool) {
	for i, w := range [...]string{"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"} {
		if s == w {
			return i < 6, true
		}
	}
	return false, false
}
