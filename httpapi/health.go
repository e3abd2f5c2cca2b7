package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// readyTimeout bounds a readiness check, so that a hung dependency makes
// /readyz fail rather than hang the prober.
const readyTimeout = 5 * time.Second

// healthz serves GET /healthz: 200 while the process serves requests.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request, _ *request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz serves GET /readyz: 200 when Config.Ready reports no error, 503
// with the reason otherwise.
func (s *server) readyz(w http.ResponseWriter, r *http.Request, _ *request) error {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			// Unauthenticated: name the failing part, log the detail
			// (which may include internal host names).
			s.log.Warn("not ready", "err", err)
			part, _, _ := strings.Cut(err.Error(), ":")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "message": part})
			return nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// metrics serves GET /metrics with Config.Metrics.
func (s *server) metrics(w http.ResponseWriter, r *http.Request, _ *request) error {
	s.cfg.Metrics.ServeHTTP(w, r)
	return nil
}

// openAPI serves GET /api/openapi.json.
func (s *server) openAPI(w http.ResponseWriter, _ *http.Request, _ *request) error {
	writeRawJSON(w, http.StatusOK, s.openapi)
	return nil
}
