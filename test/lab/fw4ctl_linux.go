package lab

// StartFW4 loads the fw4 fixture into a router built without fw4, as when
// the firewall service starts after vpnpass (boot order, `firewall start`
// after a `firewall stop`). Config.FW4IncludeDir is rendered as usual.
func (l *Lab) StartFW4(locked bool) error { return l.loadFW4(locked) }
