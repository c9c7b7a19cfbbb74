package conntrack

// Names the external tests (package conntrack_test, which may import the
// diagnosis) need from inside.
const (
	AccountingSysctl = accountingSysctl
)

// DecodeMessage decodes one ctnetlink message as the watcher, the dump and
// Refresh do (header type, flags, body), with fromKernel applied.
func DecodeMessage(typ, flags uint16, body []byte) (EventType, Flow, error) {
	et, f, err := decodeMessage(typ, flags, body)
	return et, *f.fromKernel(), err
}

// EntryRequest is the get or delete request Refresh and DeleteFootprints
// send (get: del false).
func EntryRequest(del bool, l4 uint8, t Tuple, zone uint16) ([]byte, uint16, error) {
	typ := uint16(ctGet)
	if del {
		typ = ctDelete
	}
	m, err := entryRequest(typ, l4, t, zone)
	return m.Data, uint16(m.Header.Type), err
}
