package netem

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// relay forwards UDP between a client and one server address, holding
// what comes from the server for delay: the link's one-way delay on the
// way down, where the rate limit is too. ICE on both sides sees the
// relay's address instead of the other's.
type relay struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	delay  time.Duration
	late   chan datagram
	wg     sync.WaitGroup

	mu     sync.Mutex
	client *net.UDPAddr
}

type datagram struct {
	b   []byte
	due time.Time
}

func newRelay(listenIP string, server *net.UDPAddr, delay time.Duration) (*relay, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(listenIP)})
	if err != nil {
		return nil, fmt.Errorf("relay socket: %w", err)
	}
	r := &relay{conn: conn, server: server, delay: delay, late: make(chan datagram, 4096)}
	r.wg.Add(2)
	go r.read()
	go r.deliver()
	return r, nil
}

func (r *relay) addr() *net.UDPAddr { return r.conn.LocalAddr().(*net.UDPAddr) }

// read forwards the client's packets at once and queues the rest. The
// client is the viewer, which has only loopback candidates; everything
// else comes across the link: the server's socket we relay to, and its
// other sockets, whose connectivity checks must not be taken for the
// client.
func (r *relay) read() {
	defer r.wg.Done()
	defer close(r.late)
	buf := make([]byte, 1500)
	for {
		n, from, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			return // closed
		}
		if !from.IP.IsLoopback() {
			b := append([]byte(nil), buf[:n]...)
			select {
			case r.late <- datagram{b, time.Now().Add(r.delay)}:
			default: // the delay line is full: the link drops it
			}
			continue
		}
		r.mu.Lock()
		r.client = from
		r.mu.Unlock()
		_, _ = r.conn.WriteToUDP(buf[:n], r.server)
	}
}

// deliver sends the server's packets to the client once they are due.
// The delay is the same for all, so the queue is in due order.
func (r *relay) deliver() {
	defer r.wg.Done()
	for d := range r.late {
		time.Sleep(time.Until(d.due)) // the emulated delay itself
		r.mu.Lock()
		to := r.client
		r.mu.Unlock()
		if to != nil {
			_, _ = r.conn.WriteToUDP(d.b, to)
		}
	}
}

func (r *relay) close() {
	_ = r.conn.Close()
	r.wg.Wait()
}

// relays route a server's candidates through delaying relays: each UDP
// candidate of serverIP in an SDP is replaced by a relay that forwards to
// it; every other candidate is dropped, so the link is the only way.
type relays struct {
	listenIP, serverIP string
	delay              time.Duration

	mu   sync.Mutex
	all  []*relay
	errs []error
}

// rewrite edits an SDP's candidate lines.
func (rs *relays) rewrite(sdp string) string {
	lines := strings.Split(sdp, "\r\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, "a=candidate:") {
			out = append(out, l)
			continue
		}
		// a=candidate:foundation component transport priority ip port typ ...
		f := strings.Fields(l)
		if len(f) < 8 || !strings.EqualFold(f[2], "udp") || f[4] != rs.serverIP {
			continue
		}
		port, err := strconv.Atoi(f[5])
		if err != nil {
			continue
		}
		r, err := newRelay(rs.listenIP, &net.UDPAddr{IP: net.ParseIP(rs.serverIP), Port: port}, rs.delay)
		rs.mu.Lock()
		if err != nil {
			rs.errs = append(rs.errs, err)
			rs.mu.Unlock()
			continue
		}
		rs.all = append(rs.all, r)
		rs.mu.Unlock()
		f[4], f[5] = rs.listenIP, strconv.Itoa(r.addr().Port)
		out = append(out, strings.Join(f, " "))
	}
	return strings.Join(out, "\r\n")
}

func (rs *relays) close() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.all {
		r.close()
	}
	rs.all = nil
	return errors.Join(rs.errs...)
}
