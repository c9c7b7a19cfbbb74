package config

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/openwrt/uci"
	"github.com/vpnpass/vpnpass/vpn"
)

// Server is a VPN server on the LAN that clients on the WAN connect to
// (`config server`): the status's "inbound" judges whether they can.
//
//	config server 'nas'
//		option name 'Office NAS'     # shown in findings; default the section name
//		list address '192.168.1.10'  # at most one IPv4 and one IPv6 address
//		list address '2001:db8:1::10'
//		list protocol 'ipsec'        # pptp, l2tp, ipsec; default all three
type Server struct {
	Name      string         `json:"name"`
	Addresses []netip.Addr   `json:"address"`
	Protocols []vpn.Protocol `json:"protocol"`
}

const serverOptions = "name, address, protocol"

// server reads one server section. A section without a valid address is
// ignored as a whole; a bad protocol is left out; both are problems.
func (l *loader) server(ref string, s *uci.Section) {
	srv := Server{Name: s.Name}
	var protos []vpn.Protocol
	for _, o := range s.Options {
		switch o.Name {
		case "name":
			srv.Name = o.Value()
		case "address":
			l.serverAddresses(ref, o, &srv)
		case "protocol":
			for i, v := range listValues(o) {
				p, err := vpn.ParseProtocol(v)
				if err != nil || !isToggled(p) {
					l.problem(ref, o.Name, lineOf(o, i), v, "pptp, l2tp, ipsec", nil, "unknown protocol "+strconv.Quote(v)+" ignored")
					continue
				}
				protos = appendProto(protos, p)
			}
		default:
			l.problem(ref, o.Name, o.Line(), o.Value(), serverOptions, nil, "unknown option "+strconv.Quote(o.Name)+" ignored")
		}
	}
	if len(srv.Addresses) == 0 {
		l.problem(ref, "", s.Line, s.Name, "", nil, "server section without a valid address ignored: add `list address '192.168.1.10'`")
		return
	}
	if protos == nil {
		protos = append(protos, vpn.Toggled...)
	}
	srv.Protocols = protos
	if srv.Name == "" {
		srv.Name = srv.Addresses[0].String()
	}
	l.cfg.Servers = append(l.cfg.Servers, srv)
}

// serverAddresses adds the valid addresses of o: unicast, at most one per
// family (a LAN host has one address a port forward can name).
func (l *loader) serverAddresses(ref string, o *uci.Option, srv *Server) {
	for i, v := range listValues(o) {
		a, err := netip.ParseAddr(v)
		msg := ""
		switch {
		case err != nil || a.Zone() != "":
			msg = "invalid address " + strconv.Quote(v) + " ignored"
		case !a.IsGlobalUnicast() && !a.IsPrivate():
			msg = "address " + strconv.Quote(v) + " is not a unicast host address: ignored"
		case hasFamily(srv.Addresses, a):
			msg = "second address of the same family " + strconv.Quote(v) + " ignored: one IPv4 and one IPv6 per server"
		}
		if msg != "" {
			l.problem(ref, o.Name, lineOf(o, i), v, "an IPv4 or IPv6 address of the LAN host", nil, msg)
			continue
		}
		srv.Addresses = append(srv.Addresses, a.Unmap())
	}
}

func listValues(o *uci.Option) []string {
	if !o.List {
		return strings.Fields(o.Value())
	}
	return o.Values
}

func lineOf(o *uci.Option, i int) int {
	if o.List && i < len(o.Lines) {
		return o.Lines[i]
	}
	return o.Line()
}

func isToggled(p vpn.Protocol) bool {
	for _, t := range vpn.Toggled {
		if t == p {
			return true
		}
	}
	return false
}

func appendProto(ps []vpn.Protocol, p vpn.Protocol) []vpn.Protocol {
	for _, q := range ps {
		if q == p {
			return ps
		}
	}
	return append(ps, p)
}

func hasFamily(as []netip.Addr, a netip.Addr) bool {
	for _, b := range as {
		if b.Unmap().Is4() == a.Unmap().Is4() {
			return true
		}
	}
	return false
}
