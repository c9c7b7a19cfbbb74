package swan

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vpnpass/vpnpass/test/lab"
)

// Role says which end of the VPN a charon is.
type Role int

const (
	// Responder waits for initiators (the VPN server).
	Responder Role = iota
	// Initiator starts the connection when Initiate is called (the client).
	Initiator
)

// Defaults of Config.
const (
	DefaultPSK       = "vpnpass-lab-secret"
	DefaultProposals = "aes256-sha256-x25519"
	DefaultESP       = "aes256-sha256"
	DefaultPool      = "10.99.0.0/24"
	// ConnName and ChildName name the connection and its child SA.
	ConnName  = "vpn"
	ChildName = "net"
)

// Config describes one charon. Zero fields take the defaults above.
type Config struct {
	Role Role
	// Server is the responder's address: the responder's local_addrs and
	// the initiator's remote_addrs (default lab.Server).
	Server netip.Addr
	// PSK is the pre-shared key this side uses. Give the two sides
	// different keys to make authentication fail.
	PSK string
	// ServerID and ClientID are the IKE identities (default "server" and
	// "client").
	ServerID, ClientID string
	// Proposals and ESPProposals in swanctl syntax.
	Proposals, ESPProposals string
	// Tunnel is the traffic the child SA carries on the server side
	// (default lab.Server2/32).
	Tunnel netip.Prefix
	// NoVirtualIP turns off the virtual IP: no pool on the responder, no
	// request from the initiator (then the child's client side is the
	// initiator's own address).
	NoVirtualIP bool
	// Encap forces UDP encapsulation even without NAT (swanctl encap).
	Encap bool
}

func (c Config) withDefaults() Config {
	if !c.Server.IsValid() {
		c.Server = lab.Server
	}
	if c.PSK == "" {
		c.PSK = DefaultPSK
	}
	if c.ServerID == "" {
		c.ServerID = "server"
	}
	if c.ClientID == "" {
		c.ClientID = "client"
	}
	if c.Proposals == "" {
		c.Proposals = DefaultProposals
	}
	if c.ESPProposals == "" {
		c.ESPProposals = DefaultESP
	}
	if !c.Tunnel.IsValid() {
		c.Tunnel = netip.PrefixFrom(lab.Server2, 32)
	}
	return c
}

func (r Role) String() string {
	if r == Initiator {
		return "initiator"
	}
	return "responder"
}

// strongswanConf (%[1]s = the charon's directory): only the plugins
// needed, no openssl (lab-facts.md), ESP in userspace, short retransmits.
const strongswanConf = `charon {
	load = random nonce aes sha1 sha2 hmac kdf gmp curve25519 kernel-libipsec kernel-netlink socket-default vici
	retransmit_tries = 3
	retransmit_timeout = 1.0
	install_virtual_ip = yes
	plugins {
		vici {
			socket = unix://%[1]s/charon.vici
		}
	}
	filelog {
		log {
			path = %[1]s/charon.log
			default = 1
			ike = 2
			flush_line = yes
		}
	}
}
`

// swanctlConf renders the connection, its child and the PSK for cfg's role.
func (c Config) swanctlConf() string {
	var b strings.Builder
	localID, remoteID := c.ClientID, c.ServerID
	if c.Role == Responder {
		localID, remoteID = c.ServerID, c.ClientID
	}
	fmt.Fprintf(&b, "connections {\n\t%s {\n\t\tversion = 2\n", ConnName)
	if c.Role == Responder {
		fmt.Fprintf(&b, "\t\tlocal_addrs = %s\n", c.Server)
		if !c.NoVirtualIP {
			b.WriteString("\t\tpools = pool\n")
		}
	} else {
		fmt.Fprintf(&b, "\t\tremote_addrs = %s\n", c.Server)
		if !c.NoVirtualIP {
			b.WriteString("\t\tvips = 0.0.0.0\n")
		}
	}
	if c.Encap {
		b.WriteString("\t\tencap = yes\n")
	}
	fmt.Fprintf(&b, "\t\tproposals = %s\n", c.Proposals)
	fmt.Fprintf(&b, "\t\tlocal {\n\t\t\tauth = psk\n\t\t\tid = %s\n\t\t}\n", localID)
	fmt.Fprintf(&b, "\t\tremote {\n\t\t\tauth = psk\n\t\t\tid = %s\n\t\t}\n", remoteID)
	ts := "local_ts"
	if c.Role == Initiator {
		ts = "remote_ts"
	}
	fmt.Fprintf(&b, "\t\tchildren {\n\t\t\t%s {\n\t\t\t\t%s = %s\n\t\t\t\tesp_proposals = %s\n\t\t\t}\n\t\t}\n",
		ChildName, ts, c.Tunnel, c.ESPProposals)
	b.WriteString("\t}\n}\n")
	if c.Role == Responder && !c.NoVirtualIP {
		fmt.Fprintf(&b, "pools {\n\tpool {\n\t\taddrs = %s\n\t}\n}\n", DefaultPool)
	}
	// Both identities name the same key: whichever side looks it up.
	fmt.Fprintf(&b, "secrets {\n\tike-1 {\n\t\tid-1 = %s\n\t\tid-2 = %s\n\t\tsecret = %q\n\t}\n}\n",
		localID, remoteID, c.PSK)
	return b.String()
}
