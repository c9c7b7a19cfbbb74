package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// A conntrack storm: ordinary (non-VPN) UDP flows through the router, each
// packet from a new source port so that each one is a new conntrack entry,
// sent from a raw socket inside a LAN namespace to a sink port in the inet
// namespace (where nft drops them: no ICMP storm back). Traffic never leaves
// the lab: the socket lives in the LAN namespace, whose only routes lead to
// the lab router.

// Storm sink ports at the server: ordinary services, nothing VPN.
const (
	stormPortFirst = 9
	stormPorts     = 32
	stormSink      = "add table inet sink; add chain inet sink input_drop { type filter hook input priority 0; udp dport 9-40 drop; }"
)

// stormFlow is the i-th flow's (source port, destination port): every pair
// is distinct for i below 64512·stormPorts (2 M flows).
func stormFlow(i int) (sport, dport uint16) {
	const sports = 65536 - 1024
	return uint16(1024 + i%sports), uint16(stormPortFirst + (i/sports)%stormPorts)
}

// stormPacket fills an IPv4 + UDP packet for IPPROTO_RAW: the kernel fills
// in the IP checksum, total length and ID; a zero UDP checksum means none
// (RFC 768). Header fields are written in network byte order, as on the
// wire.
func stormPacket(b []byte, src, dst [4]byte, sport, dport uint16) {
	clear(b[:28])
	b[0], b[8], b[9] = 0x45, 64, syscall.IPPROTO_UDP
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[20:], sport)
	binary.BigEndian.PutUint16(b[22:], dport)
	binary.BigEndian.PutUint16(b[24:], uint16(len(b)-20))
}

// stormResult is what the generator managed.
type stormResult struct {
	Sent    int
	Elapsed time.Duration
	Errors  int // sends the kernel refused (ENOBUFS and the like)
}

// udpStorm sends rate new flows per second for d (rate·d packets in all,
// paced in 1 ms steps) from src in node to dst, and stops at d+5 s whatever
// it managed. The socket is opened inside node.
func udpStorm(node *lab.Node, src, dst [4]byte, rate int, d time.Duration) (stormResult, error) {
	var fd int
	if err := node.Do(func() (err error) {
		fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
		return err
	}); err != nil {
		return stormResult{}, fmt.Errorf("raw socket in %s: %w", node.Role, err)
	}
	defer syscall.Close(fd)
	total := int(float64(rate) * d.Seconds())
	pkt := make([]byte, 28+8)
	copy(pkt[28:], "storm!!!")
	to := &syscall.SockaddrInet4{Addr: dst}
	var res stormResult
	start := time.Now()
	for stop := start.Add(d + 5*time.Second); res.Sent < total && time.Now().Before(stop); time.Sleep(time.Millisecond) {
		due := min(total, int(float64(rate)*time.Since(start).Seconds())+1)
		for ; res.Sent < due; res.Sent++ {
			sport, dport := stormFlow(res.Sent)
			stormPacket(pkt, src, dst, sport, dport)
			if err := syscall.Sendto(fd, pkt, 0, to); err != nil {
				if !errors.Is(err, syscall.ENOBUFS) && !errors.Is(err, syscall.EAGAIN) {
					return res, fmt.Errorf("send flow %d: %w", res.Sent, err)
				}
				res.Errors++
			}
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// cpuTime is a process's CPU time: utime+stime from /proc/<pid>/stat (all
// threads, in clock ticks of 10 ms) and, finer, the sum of its threads'
// run time from /proc/<pid>/task/*/schedstat (nanoseconds).
type cpuTime struct {
	Stat  time.Duration
	Sched time.Duration
}

func (c cpuTime) sub(o cpuTime) cpuTime { return cpuTime{c.Stat - o.Stat, c.Sched - o.Sched} }

// clockTick is USER_HZ, 100 on every Linux architecture Go supports here.
const clockTick = 10 * time.Millisecond

func procCPU(pid int) (cpuTime, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTime{}, err
	}
	// Fields after the command name (which may hold spaces), from field 3:
	// utime and stime are fields 14 and 15.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return cpuTime{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return cpuTime{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	c := cpuTime{Stat: time.Duration(ut+st) * clockTick}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, p := range tasks {
		if b, err := os.ReadFile(p); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				c.Sched += time.Duration(ns)
			}
		}
	}
	return c, nil
}
