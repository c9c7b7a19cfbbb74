package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// Load reads the config at path. Options the file leaves out take their
// defaults; an invalid value is a Problem and the option keeps its default.
// A missing or unparsable file is an error (errors.Is(err, fs.ErrNotExist)
// for a missing one) and Defaults() is returned with it.
func Load(path string) (Config, []Problem, error) {
	return Reload(path, Defaults())
}

// Reload is Load for a running daemon: an invalid value keeps its value from
// last (the configuration in force) rather than the default, and when the
// file cannot be read or parsed at all, last is returned whole with the error.
func Reload(path string, last Config) (Config, []Problem, error) {
	f, err := uci.ParseFile(path)
	if err != nil {
		return last.clone(), nil, fmt.Errorf("read config: %w", err)
	}
	l := &loader{path: path, last: last.clone(), cfg: Defaults()}
	l.load(f)
	return l.cfg, l.problems, nil
}

type loader struct {
	path     string
	last     Config
	cfg      Config
	problems []Problem
}

// problem records an entry that is ignored (kept == nil) or replaced by *kept.
func (l *loader) problem(ref, option string, line int, value, valid string, kept *string, msg string) {
	l.problems = append(l.problems, Problem{
		File: l.path, Line: line, Section: ref, Option: option,
		Value: value, Valid: valid, Kept: kept, Message: msg,
	})
}

func ptr(s string) *string { return &s }

func (l *loader) load(f *uci.File) {
	agent := pickAgent(f)
	for _, s := range f.Sections {
		ref := sectionRef(f, s)
		switch {
		case s == agent:
			for _, o := range s.Options {
				l.agentOption(ref, o)
			}
		case s.Type == "agent":
			l.problem(ref, "", s.Line, s.Name, "", nil,
				"ignored: only one agent section is read (config agent 'main')")
		case s.Type == "passthrough":
			l.passthrough(ref, s)
		case s.Type == "server":
			l.server(ref, s)
		default:
			l.problem(ref, "", s.Line, s.Type, "agent, passthrough, server", nil,
				"unknown section type "+strconv.Quote(s.Type)+" ignored")
		}
	}
}

// pickAgent returns `config agent 'main'`, else the first agent section.
func pickAgent(f *uci.File) *uci.Section {
	if s := f.Section("main"); s != nil && s.Type == "agent" {
		return s
	}
	if all := f.SectionsOfType("agent"); len(all) > 0 {
		return all[0]
	}
	return nil
}

// sectionRef names a section as uci does: its name, or @type[index].
func sectionRef(f *uci.File, s *uci.Section) string {
	if s.Name != "" {
		return s.Name
	}
	for i, o := range f.SectionsOfType(s.Type) {
		if o == s {
			return "@" + s.Type + "[" + strconv.Itoa(i) + "]"
		}
	}
	return "@" + s.Type
}

func (l *loader) agentOption(ref string, o *uci.Option) {
	i, ok := lookupField(o.Name)
	if !ok {
		l.problem(ref, o.Name, o.Line(), o.Value(), strings.Join(agentOptionNames(), ", "), nil,
			"unknown option "+strconv.Quote(o.Name)+" ignored")
		return
	}
	fl := &agentFields[i]
	values := o.Values
	if fl.list && !o.List {
		values = strings.Fields(o.Value()) // old style: several items in one option
	}
	if !fl.list && len(values) > 1 {
		l.cfg.keepValue(i, &l.last)
		l.problem(ref, o.Name, o.Lines[1], strings.Join(values, " "), fl.valid, ptr(l.cfg.showValue(i)),
			"takes one value, not a list")
		return
	}
	for j, v := range values {
		if err := checkValue(i, v); err != nil {
			l.cfg.keepValue(i, &l.last)
			line := o.Line()
			if j < len(o.Lines) && o.List {
				line = o.Lines[j]
			}
			l.problem(ref, o.Name, line, v, fl.valid, ptr(l.cfg.showValue(i)), err.Error())
			return
		}
	}
	l.cfg.setValue(i, values)
}

func (l *loader) passthrough(ref string, s *uci.Section) {
	proto, err := vpn.ParseProtocol(s.Name)
	if err != nil {
		msg := "passthrough sections are named after their protocol: config passthrough 'pptp'"
		if s.Name != "" {
			msg = "unknown protocol " + strconv.Quote(s.Name) + ": section ignored"
		}
		l.problem(ref, "", s.Line, s.Name, "pptp, l2tp, ipsec", nil, msg)
		return
	}
	for _, o := range s.Options {
		if o.Name != "mode" {
			l.problem(ref, o.Name, o.Line(), o.Value(), "mode", nil,
				"unknown option "+strconv.Quote(o.Name)+" ignored")
			continue
		}
		mode, err := netfilter.ParseMode(o.Value())
		if err != nil || len(o.Values) > 1 {
			kept := l.last.Modes.Mode(proto)
			l.cfg.Modes[proto] = kept
			msg := "invalid mode " + strconv.Quote(o.Value())
			if len(o.Values) > 1 {
				msg = "takes one value, not a list"
			}
			l.problem(ref, "mode", o.Line(), strings.Join(o.Values, " "), "allow, block, default", ptr(string(kept)), msg)
			continue
		}
		l.cfg.Modes[proto] = mode
	}
}
