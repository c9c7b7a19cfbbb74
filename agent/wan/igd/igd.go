// Package igd finds the UPnP Internet Gateway Device upstream (SSDP), reads
// its description (model name) and asks it for its external IPv4 address
// (GetExternalIPAddress). It speaks HTTP and XML through small hand-written
// code instead of net/http and encoding/xml, which would cost megabytes on a
// router; it talks only to the device that answered the search.
package igd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// WAN connection services that carry GetExternalIPAddress, most preferred first.
var connectionServices = []string{
	"urn:schemas-upnp-org:service:WANIPConnection:2",
	"urn:schemas-upnp-org:service:WANIPConnection:1",
	"urn:schemas-upnp-org:service:WANPPPConnection:1",
}

// Device is what the description says about the gateway.
type Device struct {
	_            [0]func() // not comparable: no generated equality function (binary size)
	Location     string
	DeviceType   string
	FriendlyName string
	Manufacturer string
	ModelName    string
	ModelNumber  string
	// ServiceType and ControlURL of the chosen WAN connection service.
	ServiceType string
	ControlURL  string
}

// Model is the best short name for the box: model name, else friendly name.
func (d *Device) Model() string {
	if d.ModelName != "" {
		return d.ModelName
	}
	return d.FriendlyName
}

// Result is a completed probe.
type Result struct {
	Address  netip.Addr // the IGD's address (it answered SSDP from here)
	Device   Device
	External netip.Addr // its external IPv4 address
}

// ErrNotFound means no IGD answered the search.
var ErrNotFound = errors.New("no UPnP gateway answered")

// Options tune Probe. Zero values take the defaults.
type Options struct {
	Gateway netip.Addr    // preferred responder; also searched by unicast
	Timeout time.Duration // whole probe, default 4 s
	Search  time.Duration // SSDP answer window, default 1.5 s
}

// Probe discovers the gateway's IGD and asks it for its external address.
// When the description was read but the SOAP call failed, the result keeps
// the device with the error.
func Probe(ctx context.Context, opt Options) (res Result, err error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 4 * time.Second
	}
	if opt.Search <= 0 {
		opt.Search = 1500 * time.Millisecond
	}
	// No defer (smaller code): the agent probes only on wan.RunProbes'
	// goroutines, where a panic ends the process.
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	sctx, scancel := context.WithTimeout(ctx, opt.Search)
	found, err := Discover(sctx, opt.Gateway)
	scancel()
	if err == nil {
		a := choose(found, opt.Gateway)
		if a == nil {
			err = ErrNotFound
		} else {
			res.Address = a.From
			err = describe(ctx, &res.Device, a.Location, a.From)
			if err == nil {
				res.External, err = ExternalIP(ctx, &res.Device)
			}
		}
	}
	cancel()
	if err != nil {
		err = fmt.Errorf("igd: %w", err)
	}
	return res, err
}

// choose prefers the answer from the gateway, else the first one; nil when
// nothing answered.
func choose(found []Announcement, gateway netip.Addr) *Announcement {
	for i := range found {
		if found[i].From == gateway {
			return &found[i]
		}
	}
	if len(found) > 0 {
		return &found[0]
	}
	return nil
}

// Describe fetches and parses the device description at location. The URL
// must point at from, the address that answered SSDP.
func Describe(ctx context.Context, location string, from netip.Addr) (d Device, err error) {
	err = describe(ctx, &d, location, from)
	return d, err
}

// describe is Describe filling d, which is left zero on an error.
func describe(ctx context.Context, d *Device, location string, from netip.Addr) error {
	u, err := parseURL(location)
	if err != nil {
		return fmt.Errorf("description: %w", err)
	}
	if from.IsValid() && u.host.Addr() != from {
		return fmt.Errorf("description URL %s is not on %v, the device that answered", u, from)
	}
	resp, err := do(ctx, "GET", u, nil, "")
	if err != nil {
		return fmt.Errorf("description: %w", err)
	}
	if resp.status != 200 {
		return fmt.Errorf("description: GET %s: HTTP status %d", u, resp.status)
	}
	if err := parseDescription(d, resp.body, u); err != nil {
		*d = Device{}
		return fmt.Errorf("description %s: %w", u, err)
	}
	d.Location = u.String()
	return nil
}

// parseDescription reads the root device and the WAN connection service
// into d.
func parseDescription(d *Device, body string, loc httpURL) error {
	doc, err := parseXML(body)
	if err != nil {
		return err
	}
	root := doc.child("root")
	dev := root.child("device")
	if dev == nil {
		return errors.New("no root device")
	}
	d.DeviceType = dev.value("deviceType")
	d.FriendlyName = clean(dev.value("friendlyName"))
	d.Manufacturer = clean(dev.value("manufacturer"))
	d.ModelName = clean(dev.value("modelName"))
	d.ModelNumber = clean(dev.value("modelNumber"))
	base := loc
	if b := root.value("URLBase"); b != "" {
		if base, err = parseURL(b); err != nil {
			return fmt.Errorf("URLBase: %w", err)
		}
	}
	services := dev.find("service")
	for _, want := range connectionServices {
		for _, s := range services {
			if s.value("serviceType") != want {
				continue
			}
			ctl, err := base.resolve(s.value("controlURL"))
			if err != nil {
				return fmt.Errorf("controlURL: %w", err)
			}
			d.ServiceType, d.ControlURL = want, ctl.String()
			return nil
		}
	}
	return errors.New("no WANIPConnection or WANPPPConnection service")
}

// ExternalIP calls GetExternalIPAddress on the device's WAN connection
// service. The control URL must be on the same host as the description.
func ExternalIP(ctx context.Context, d *Device) (none netip.Addr, _ error) {
	loc, err := parseURL(d.Location)
	if err != nil {
		return none, err
	}
	ctl, err := parseURL(d.ControlURL)
	if err != nil {
		return none, err
	}
	if ctl.host.Addr() != loc.host.Addr() {
		return none, fmt.Errorf("control URL %s is not on the described device %v", ctl, loc.host.Addr())
	}
	// ServiceType is one of our constants (chosen by exact match), so it is
	// safe to place in the header and the body.
	body := `<?xml version="1.0"?>` + "\r\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">` +
		`<s:Body><u:GetExternalIPAddress xmlns:u="` + d.ServiceType + `"></u:GetExternalIPAddress></s:Body></s:Envelope>` + "\r\n"
	headers := []string{
		`Content-Type: text/xml; charset="utf-8"`,
		`SOAPAction: "` + d.ServiceType + `#GetExternalIPAddress"`,
	}
	resp, err := do(ctx, "POST", ctl, headers, body)
	if err != nil {
		return none, fmt.Errorf("GetExternalIPAddress: %w", err)
	}
	return parseExternalIP(resp)
}

// parseExternalIP reads the SOAP answer or fault.
func parseExternalIP(resp response) (none netip.Addr, _ error) {
	doc, err := parseXML(resp.body)
	if err != nil {
		return none, fmt.Errorf("GetExternalIPAddress: HTTP %d: %w", resp.status, err)
	}
	if resp.status != 200 {
		if f := doc.find("UPnPError"); len(f) > 0 {
			return none, errors.New("GetExternalIPAddress: UPnP error " +
				clean(f[0].value("errorCode")) + " " + clean(f[0].value("errorDescription")))
		}
		return none, errors.New("GetExternalIPAddress: HTTP status " + strconv.Itoa(resp.status))
	}
	el := doc.find("NewExternalIPAddress")
	if len(el) == 0 {
		return none, errors.New("GetExternalIPAddress: no NewExternalIPAddress in the answer")
	}
	s := strings.TrimSpace(el[0].text.String())
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return none, errors.New("GetExternalIPAddress: " + strconv.Quote(clip(s)) + " is not an IPv4 address")
	}
	if a.IsUnspecified() {
		return none, errors.New("GetExternalIPAddress: the gateway reports 0.0.0.0 (it has no usable external address)")
	}
	return a, nil
}

// clean bounds device-supplied text and drops control characters, so a
// model name is safe to show in messages and logs.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 96 {
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
