package agent

import (
	"fmt"

	"github.com/vpnpass/vpnpass/helpers"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// BackendStatus names the firewall in charge and the others hooking forward.
type BackendStatus struct {
	Kind netfilter.Kind   `json:"kind"`
	Also []netfilter.Kind `json:"also"`
}

// Status is INTERFACE.md's Status object.
type Status struct {
	Backend     BackendStatus                                `json:"backend"`
	Helpers     map[string]helpers.Info                      `json:"helpers"`
	Protocols   map[netfilter.Protocol]netfilter.ProtoStatus `json:"protocols"`
	Masquerade  bool                                         `json:"masquerade"`
	FlowOffload string                                       `json:"flow_offload"`
	WAN         *NatSummary                                  `json:"wan"`
}

// NatSummary is the WAN part of the status (INTERFACE.md's Nat object).
type NatSummary = map[string]any

// StatusSources are the probes a status is built from; injectable for tests.
type StatusSources struct {
	Detect  func() (fw.Detection, error)
	Helpers func() (helpers.Report, error)
}

// DefaultSources probe the live kernel of the calling thread's namespace.
func DefaultSources() StatusSources {
	return StatusSources{
		Detect:  fw.Detect,
		Helpers: func() (helpers.Report, error) { return helpers.Probe(helpers.Options{}) },
	}
}

// CollectStatus builds a Status from the live kernel.
func CollectStatus(src StatusSources) (Status, error) {
	st := Status{Helpers: map[string]helpers.Info{}, Protocols: map[netfilter.Protocol]netfilter.ProtoStatus{}, FlowOffload: "none"}
	det, err := src.Detect()
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	st.Backend = BackendStatus{Kind: det.InCharge, Also: det.Also}
	rep, err := src.Helpers()
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	st.Helpers["pptp"], st.Helpers["gre"] = rep.PPTP, rep.GRE
	return st, nil
}
