package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/journeys/journeys/internal/redact"
	"github.com/journeys/journeys/processor/journey"
)

// callbackCheckBudget bounds the callback target checks of one save. A
// lookup cut short leaves its target to be checked when dialled.
const callbackCheckBudget = 3 * time.Second

// checkSave applies the save-time checks that go beyond a journey's own
// validity: the size limits (docs/design.md §11), each counted when hit,
// and, when Config.CheckCallback is set, that every outcome's callback
// target could be delivered to under the daemon's configuration (§8). The
// answer is a 400 listing each offending field.
func (s *server) checkSave(ctx context.Context, j *journey.Journey) error {
	hit, err := s.cfg.Limits.Check(j)
	s.cfg.LimitStats.Record(hit)
	var fields []journey.FieldError
	var ve *journey.ValidationError
	if errors.As(err, &ve) {
		fields = append(fields, ve.Errors...)
	}
	if s.cfg.CheckCallback != nil && len(hit) == 0 {
		// One bound for all outcomes: a slow resolver must not hold the
		// save for a lookup timeout per outcome.
		ctx, cancel := context.WithTimeout(ctx, callbackCheckBudget)
		defer cancel()
		for i, o := range j.Outcomes {
			if err := s.cfg.CheckCallback(ctx, o.Callback); err != nil {
				fields = append(fields, journey.FieldError{
					Field:   "outcomes[" + strconv.Itoa(i) + "].callback",
					Message: redact.Text(err.Error()),
				})
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	ve = &journey.ValidationError{Errors: fields}
	return &apiError{status: http.StatusBadRequest, msg: ve.Error(), fields: fields}
}
