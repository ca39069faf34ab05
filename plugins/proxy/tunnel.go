package proxy

import (
	"context"
	"io"
	"net/http"
	"sync"

	"gibbon/http1"
	"gibbon/stage"
)

// tunnel answers a 101 from the server: it takes the client connection
// over (stage.Hijacker), writes the 101 head, then copies bytes both ways
// until either side closes (or the request context ends), and closes
// both.
func (h *handler) tunnel(w stage.ResponseWriter, r *stage.Request, s *server, resp *http.Response) error {
	up, ok := resp.Body.(io.ReadWriteCloser)
	hj, canHijack := w.(stage.Hijacker)
	if !ok || !canHijack {
		s.errors.Add(1)
		return stage.Error(http.StatusBadGateway, ErrUpgrade)
	}
	conn, buffered, err := hj.Hijack()
	if err != nil {
		s.errors.Add(1)
		return stage.Error(http.StatusBadGateway, err)
	}
	h.pool.succeeded(s)
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			conn.Close()
			up.Close()
		})
	}
	defer closeBoth()
	stop := context.AfterFunc(r.Context(), closeBoth)
	defer stop()

	if _, err := conn.Write(switchingHead(resp)); err != nil {
		return err
	}
	if len(buffered) > 0 {
		n, err := up.Write(buffered)
		s.bytesIn.Add(int64(n))
		if err != nil {
			return err
		}
	}
	toServer := make(chan struct{})
	go func() {
		defer close(toServer)
		n, _ := io.Copy(up, conn)
		s.bytesIn.Add(n)
		closeBoth()
	}()
	n, _ := io.Copy(conn, up)
	s.bytesOut.Add(n)
	closeBoth()
	<-toServer
	return nil
}

// switchingHead renders the 101 head for the client: the server's fields
// without hop-by-hop ones, then Connection: Upgrade, its Upgrade and Via.
func switchingHead(resp *http.Response) []byte {
	upgrade := resp.Header.Get("Upgrade")
	hd := resp.Header.Clone()
	removeHopByHop(hd)
	appendList(hd, "Via", via)
	b := http1.AppendStatusLine(nil, http1.Version11, http.StatusSwitchingProtocols)
	b = http1.AppendHeaderString(b, "Connection", "Upgrade")
	if upgrade != "" {
		b = http1.AppendHeaderString(b, "Upgrade", upgrade)
	}
	for _, k := range sortedKeys(hd) {
		for _, v := range hd[k] {
			b = http1.AppendHeaderString(b, k, v)
		}
	}
	return append(b, '\r', '\n')
}
