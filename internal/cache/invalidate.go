package cache

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
)

// InvalidatorConfig configures an Invalidator. Store, Logger and Registerer
// are required; Prefix and TTL must match searchd's.
type InvalidatorConfig struct {
	Store      Store
	Prefix     string
	TTL        time.Duration // of written records; default DefaultDetailTTL
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Invalidator is a nearby.OwnerService that, after each successful write
// of the service it wraps, writes the new state into the detail cache: the
// record after a create, replace or patch, a tombstone after a delete.
// Because cache writes only ever replace older versions, searchd's next
// read returns the owner's write, even from a lagging replica. A cache
// write that fails is logged and counted, and the owner's write still
// succeeds: searchd then serves the old detail for at most its TTL.
type Invalidator struct {
	nearby.OwnerService
	cfg           InvalidatorConfig
	invalidations *prometheus.CounterVec
}

var _ nearby.OwnerService = (*Invalidator)(nil)

// NewInvalidator wraps svc.
func NewInvalidator(svc nearby.OwnerService, cfg InvalidatorConfig) *Invalidator {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultDetailTTL
	}
	return &Invalidator{OwnerService: svc, cfg: cfg, invalidations: counterVec(cfg.Registerer, prometheus.CounterOpts{
		Name: "nearby_cache_invalidations_total",
		Help: "Detail cache updates after owners' writes, by result (ok, stale: a newer version was already cached, error: the cache was unreachable).",
	}, "result")}
}

// Create implements nearby.OwnerService. A create replaces a negative entry
// of its id. A replayed create writes nothing: its record is the first
// create's, which that create wrote, and may be older than the business is
// now.
func (v *Invalidator) Create(ctx context.Context, ownerID int64, key string, in nearby.BusinessInput) (*nearby.BusinessRecord, bool, error) {
	rec, replayed, err := v.OwnerService.Create(ctx, ownerID, key, in)
	if err == nil && !replayed {
		v.put(ctx, rec.ID, rec, rec.Version)
	}
	return rec, replayed, err
}

// Replace implements nearby.OwnerService.
func (v *Invalidator) Replace(ctx context.Context, ownerID, id, version int64, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	rec, err := v.OwnerService.Replace(ctx, ownerID, id, version, in)
	if err == nil {
		v.put(ctx, id, rec, rec.Version)
	}
	return rec, err
}

// Patch implements nearby.OwnerService.
func (v *Invalidator) Patch(ctx context.Context, ownerID, id, version int64, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	rec, err := v.OwnerService.Patch(ctx, ownerID, id, version, in)
	if err == nil {
		v.put(ctx, id, rec, rec.Version)
	}
	return rec, err
}

// Delete implements nearby.OwnerService.
func (v *Invalidator) Delete(ctx context.Context, ownerID, id, version int64) error {
	err := v.OwnerService.Delete(ctx, ownerID, id, version)
	if err == nil {
		v.put(ctx, id, nil, tombstone)
	}
	return err
}

// put writes rec to the cache after its write committed. It does so even
// when the write's request has ended meanwhile (the client hung up, or its
// deadline came as it committed): the store bounds its own calls.
func (v *Invalidator) put(ctx context.Context, id int64, rec *nearby.BusinessRecord, version int64) {
	ctx = context.WithoutCancel(ctx)
	key := DetailKey(v.cfg.Prefix, id)
	val, err := encodeDetail(rec, version)
	if err == nil {
		var stored bool
		stored, err = v.cfg.Store.SetNewer(ctx, key, val, jitter(v.cfg.TTL, rand.Float64()))
		if err == nil && !stored {
			v.invalidations.WithLabelValues("stale").Inc()
			return
		}
	}
	if err != nil {
		v.invalidations.WithLabelValues("error").Inc()
		v.cfg.Logger.Warn("detail cache not updated after a write; searchers may see the old detail until it expires",
			"business_id", id, "version", version, "ttl", v.cfg.TTL.String(), "err", err)
		return
	}
	v.invalidations.WithLabelValues("ok").Inc()
}
