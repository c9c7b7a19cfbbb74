package sock

import "strings"

// SplitHostPort splits "host:port", "[host]:port" or "[host%zone]:port"
// by net.SplitHostPort's rules (ok false where it returns an error), so
// that parsing an address links none of net's address errors.
func SplitHostPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return "", "", false // missing port
	}
	j, k := 0, 0
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		if end+1 != i { // no ']', or not just before the last ':'
			return "", "", false
		}
		host, j, k = hostport[1:end], 1, end+1
	} else {
		host = hostport[:i]
		if strings.IndexByte(host, ':') >= 0 {
			return "", "", false // too many colons
		}
	}
	if strings.IndexByte(hostport[j:], '[') >= 0 || strings.IndexByte(hostport[k:], ']') >= 0 {
		return "", "", false
	}
	return host, hostport[i+1:], true
}

// JoinHostPort is net.JoinHostPort: "host:port", "[host]:port" when host
// has a colon (IPv6).
func JoinHostPort(host, port string) string {
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}
