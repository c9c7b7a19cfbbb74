// Package diagnose is the pure diagnosis of vpnpass: it classifies
// conntrack flows and observer counts, groups them into sessions per (LAN
// host or the router, server, protocol), judges each session by the rules of
// its protocol's footprint and the inspected firewall verdicts, and reports
// findings in the precedence of docs/design.md#the-doctor. Its catalog is
// the one source of the findings' texts (build/i18n generates LuCI's from
// it). It touches no kernel and never logs: the agent feeds it.
package diagnose

// incomparable, as a struct's first field, makes the struct not comparable
// with ==: the compiler then generates no equality function for it (a few
// hundred bytes of code each on mips, referenced by the type's descriptor
// although nothing calls it).
type incomparable [0]func()
