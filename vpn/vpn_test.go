package vpn

import (
	"reflect"
	"testing"
)

// TestInboundElements pins what a server on the LAN must receive, per
// protocol and family (docs/interface.md#status, "inbound").
func TestInboundElements(t *testing.T) {
	cases := []struct {
		p    Protocol
		fam  Family
		want []string
	}{
		{PPTP, IPv4, []string{"tcp/1723", "gre"}},
		{PPTP, IPv6, []string{"tcp/1723", "gre"}},
		{L2TP, IPv4, []string{"udp/500", "udp/4500"}},
		{L2TP, IPv6, []string{"udp/500", "udp/4500"}},
		{IPsec, IPv4, []string{"udp/500", "udp/4500"}},
		{IPsec, IPv6, []string{"udp/500", "udp/4500", "esp"}},
		{OpenVPN, IPv4, nil},
	}
	for _, c := range cases {
		var got []string
		for _, e := range InboundElements(c.p, c.fam) {
			if e.Family != c.fam {
				t.Errorf("%s %s: element %s has family %s", c.p, c.fam, e.Match(), e.Family)
			}
			got = append(got, e.Match())
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("InboundElements(%s, %s) = %v, want %v", c.p, c.fam, got, c.want)
		}
	}
	if got := InboundProtocolsOf(ProtoUDP, PortIKE); !reflect.DeepEqual(got, []Protocol{L2TP, IPsec}) {
		t.Errorf("InboundProtocolsOf(udp, 500) = %v", got)
	}
	if got := InboundProtocolsOf(ProtoESP, 0); !reflect.DeepEqual(got, []Protocol{IPsec}) {
		t.Errorf("InboundProtocolsOf(esp) = %v", got)
	}
}

func TestMatchStrings(t *testing.T) {
	cases := []struct {
		e    Element
		want string
	}{
		{Element{L4: ProtoUDP, Port: 4500}, "udp/4500"},
		{Element{L4: ProtoTCP, Port: 1723}, "tcp/1723"},
		{Element{L4: ProtoUDP}, "udp/0"},
		{Element{L4: ProtoGRE}, "gre"},
		{Element{L4: ProtoESP, Port: 9}, "esp"},
		{Element{L4: ProtoAH}, "ah"},
		{Element{L4: 132, Port: 5}, "proto/132"},
	}
	for _, c := range cases {
		if got := c.e.Match(); got != c.want {
			t.Errorf("%+v.Match() = %q, want %q", c.e, got, c.want)
		}
	}
	if got := L4Name(132); got != "proto-132" {
		t.Errorf("L4Name(132) = %q", got)
	}
}

// TestProtocolLists checks the literal lists against the tables they
// follow.
func TestProtocolLists(t *testing.T) {
	var all []Protocol
	for _, i := range protocols {
		all = append(all, i.p)
	}
	if !reflect.DeepEqual(All, all) {
		t.Errorf("All = %v, the table has %v", All, all)
	}
	if !reflect.DeepEqual(Toggled, All[:3]) {
		t.Errorf("Toggled = %v, want the first of %v", Toggled, All)
	}
	var els []ObserverElement
	for _, o := range observedTable {
		els = append(els, o.el)
	}
	if !reflect.DeepEqual(ObserverElements, els) {
		t.Errorf("ObserverElements = %v, the table has %v", ObserverElements, els)
	}
}
