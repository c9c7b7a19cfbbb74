package uci

import "strconv"

func (p *parser) parsePackage() error {
	name, err := p.nextArg()
	if err != nil {
		return err
	}
	if name == "" {
		return p.errAt(p.stmt, "insufficient arguments: package needs a name")
	}
	if !ValidPackage(name) {
		return p.errAt(p.stmt, "invalid character in package name "+strconv.Quote(name))
	}
	if err := p.assertEOL(); err != nil {
		return err
	}
	if p.f.Package != "" && p.f.Package != name {
		return p.errAt(p.stmt, "second package "+strconv.Quote(name)+" after "+strconv.Quote(p.f.Package)+": one file holds one package")
	}
	p.f.Package = name
	return nil
}

func (p *parser) parseConfig() error {
	typ, err := p.nextArg()
	if err != nil {
		return err
	}
	if typ == "" {
		return p.errAt(p.stmt, "insufficient arguments: config needs a type")
	}
	if !ValidType(typ) {
		return p.errAt(p.stmt, "invalid character in type field "+strconv.Quote(typ))
	}
	name, err := p.nextArg()
	if err != nil {
		return err
	}
	if name != "" && !ValidName(name) {
		return p.errAt(p.stmt, "invalid character in name field "+strconv.Quote(name)+" (letters, digits and _ only)")
	}
	if err := p.assertEOL(); err != nil {
		return err
	}
	if name == "" {
		p.sec = p.f.AddSection(typ, "")
		p.sec.Line = p.lineAt(p.stmt)
		return nil
	}
	if s := p.f.Section(name); s != nil {
		// libuci merges a repeated named section into the first one.
		if s.Type != typ {
			return p.errAt(p.stmt, "section "+strconv.Quote(name)+" of type "+strconv.Quote(typ)+
				" overwrites prior section of type "+strconv.Quote(s.Type)+" (line "+strconv.Itoa(s.Line)+")")
		}
		p.sec = s
		return nil
	}
	p.sec = p.f.AddSection(typ, name)
	p.sec.Line = p.lineAt(p.stmt)
	return nil
}

func (p *parser) parseOption(list bool) error {
	if p.sec == nil {
		return p.errAt(p.stmt, "option/list command found before the first section")
	}
	name, err := p.nextArg()
	if err != nil {
		return err
	}
	if name == "" {
		return p.errAt(p.stmt, "insufficient arguments: option needs a name")
	}
	if !ValidName(name) {
		return p.errAt(p.stmt, "invalid character in name field "+strconv.Quote(name)+" (letters, digits and _ only)")
	}
	value, err := p.nextArg()
	if err != nil {
		return err
	}
	if err := p.assertEOL(); err != nil {
		return err
	}
	line := p.lineAt(p.stmt)
	if list {
		p.sec.AddList(name, value)
	} else {
		p.sec.Set(name, value)
	}
	if o := p.sec.Option(name); o != nil {
		o.Lines[len(o.Lines)-1] = line
	}
	return nil
}
