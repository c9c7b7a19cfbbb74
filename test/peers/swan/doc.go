// Package swan runs strongSwan's charon as a real IKEv2 peer inside a lab
// node (test/lab), for tests that need a genuine responder or initiator:
// the probe's IKE_SA_INIT, conntrack's IKE session diagnosis.
//
//	srv := swan.Start(t, l.Inet, swan.Config{Role: swan.Responder})
//	cli := swan.Start(t, l.LAN, swan.Config{Role: swan.Initiator})
//	if err := cli.Initiate(10 * time.Second); err != nil { ... }
//	sas, _ := cli.SAs()         // swanctl --list-sas
//	t.Log(srv.Logs())           // charon's log (also logged when the test fails)
//	srv.Stop()                  // or leave it to t.Cleanup
//
// The zero Config is the lab's standard VPN: PSK authentication with ids
// "server" and "client", IKE proposal aes256-sha256-x25519, ESP
// aes256-sha256, the responder on lab.Server (203.0.113.10) handing out
// virtual IPs from 10.99.0.0/24 and a tunnel to lab.Server2 (203.0.113.20),
// so IKE itself never goes through the tunnel.
//
// Each charon is isolated as lab-facts.md describes: its own
// STRONGSWAN_CONF (only the plugins listed below, nothing from
// /etc/strongswan.d), its own vici socket and its own /run (charon
// hard-codes /var/run/charon.pid), bind-mounted inside the private mount
// namespace `ip netns exec` gives. The kernel here has no ESP, so ESP runs
// in userspace (kernel-libipsec, a TUN device), always encapsulated in UDP
// 4500. Retransmits are short (3 tries, 1 s) so a blocked exchange gives up
// in about 12 s instead of 165 s.
//
// Start skips the test when charon, swanctl or ip is missing (fails under
// CI=true); call lab.Require or lab.New first.
package swan
