package configs

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// IsLoopback reports whether the HTTP server listens on loopback only
// (127.x, ::1, localhost). An empty host or 0.0.0.0 means every
// interface, so control endpoints then need the token.
func (h HTTP) IsLoopback() bool {
	host, _, err := net.SplitHostPort(h.Listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// checkListen checks host:port and returns the port. Port 0 (an ephemeral
// port) is allowed for tests. allowLocalhost is false for the FLV server:
// GStreamer's tcpserversink takes an address, not a name.
func checkListen(addr string, allowLocalhost bool) (int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%q is not host:port, such as :8080 or 127.0.0.1:8080", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("port %q must be a number 0-65535", portStr)
	}
	if host == "" || allowLocalhost && host == "localhost" {
		return port, nil
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if allowLocalhost {
			return 0, fmt.Errorf("host %q must be empty (all interfaces), localhost or an IP address", host)
		}
		return 0, fmt.Errorf("host %q must be empty (all interfaces) or an IP address", host)
	}
	return port, nil
}

// listenProblems checks both servers and that they do not share a port.
func listenProblems(h HTTP, f FLV) []*FieldError {
	var errs []*FieldError
	hp, herr := checkListen(h.Listen, true)
	if herr != nil {
		errs = append(errs, &FieldError{Field: "http.listen", Err: herr})
	}
	fp, ferr := checkListen(f.Listen, false)
	if ferr != nil {
		errs = append(errs, &FieldError{Field: "flv.listen", Err: ferr})
	}
	if herr == nil && ferr == nil && hp != 0 && hp == fp {
		errs = append(errs, fieldErrorf("flv.listen", "port %d is already http.listen's", fp))
	}
	return errs
}
