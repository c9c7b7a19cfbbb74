package conntrack

// ObserverTable is the nftables table (family inet) of the observer.
const ObserverTable = "vpnpass_watch"
