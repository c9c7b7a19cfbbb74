package igd

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseAnnouncement: an SSDP answer from any LAN or WAN host is either
// refused or gives a LOCATION without line breaks (it is fetched next).
func FuzzParseAnnouncement(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
		"LOCATION: http://192.168.0.1:5000/rootDesc.xml\r\nSERVER: MiniUPnPd/2.3.1\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\nlocation:http://10.0.0.1/\n"))
	f.Add([]byte("NOTIFY * HTTP/1.1\r\nLOCATION: http://x/\r\n"))
	f.Add([]byte("HTTP/1.1 200\r\nLOCATION:\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := parseAnnouncement(b)
		if !ok {
			if !reflect.DeepEqual(a, Announcement{}) {
				t.Fatalf("%q refused but returned %+v", b, a)
			}
			return
		}
		if a.Location == "" || strings.ContainsAny(a.Location, "\r\n") || strings.TrimSpace(a.Location) != a.Location {
			t.Fatalf("%q: location %q", b, a.Location)
		}
	})
}
