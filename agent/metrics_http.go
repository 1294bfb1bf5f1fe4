package agent

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/serf-clone/serf/serf"
)

// metricsShutdownTimeout bounds how long Shutdown waits for scrapes in
// flight.
const metricsShutdownTimeout = 2 * time.Second

// MetricsServer is the HTTP endpoint behind metrics_addr:
//
//	/metrics  the Prometheus text format of the telemetry's series
//	/health   200 "alive" while this member is alive in the cluster (Serf
//	          running and its own member status alive), 503 otherwise
type MetricsServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
}

// NewMetricsServer serves the series of prom and the health of a on ln
// until Shutdown. Errors of the server itself go to logger.
func NewMetricsServer(ln net.Listener, prom *PrometheusSink, a *Agent, logger *log.Logger) *MetricsServer {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", prometheusContentType)
		// A write error means the scraper went away; nothing to tell it.
		_ = prom.WriteText(w)
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if status := memberHealth(a); status != "alive" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(status + "\n"))
			return
		}
		_, _ = w.Write([]byte("alive\n"))
	})
	m := &MetricsServer{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          logger,
		},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Printf("[ERR] agent: metrics server: %v", err)
		}
	}()
	return m
}

// memberHealth is "alive" when a's Serf runs and sees itself alive;
// otherwise the Serf state or member status that is not.
func memberHealth(a *Agent) string {
	s := a.Serf()
	if s == nil {
		return "none"
	}
	if st := s.State(); st != serf.SerfAlive {
		return st.String()
	}
	return s.LocalMember().Status.String()
}

// Addr is where the server listens.
func (m *MetricsServer) Addr() net.Addr { return m.ln.Addr() }

// Shutdown stops the server and waits for it; idempotent.
func (m *MetricsServer) Shutdown() {
	m.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
		defer cancel()
		if err := m.srv.Shutdown(ctx); err != nil {
			_ = m.srv.Close()
		}
		<-m.done
	})
}
