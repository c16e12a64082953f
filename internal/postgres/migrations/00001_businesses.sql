-- The businesses owners manage, and the idempotency keys of their creates.
-- Every rule the Go validation enforces (nearby.BusinessInput.Validate) is
-- also a constraint here, so no writer can store what the API would refuse.
-- Constraint names are <table>_<field>_check: the store reports a violation
-- as an invalid parameter named after the field.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION nearby_photos_ok(p text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT cardinality(p) <= 20 AND coalesce(bool_and(
    u IS NOT NULL
    AND octet_length(u) <= 2048
    AND u ~* '^https?://[^/?#@[:space:][:cntrl:]]'
    AND u !~ '[[:space:][:cntrl:]]'), true)
  FROM unnest(p) AS u
$$;
-- +goose StatementEnd

CREATE TABLE businesses (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_id    bigint NOT NULL CONSTRAINT businesses_owner_id_check CHECK (owner_id > 0),
  name        text NOT NULL CONSTRAINT businesses_name_check
                CHECK (char_length(name) BETWEEN 1 AND 200 AND btrim(name) <> '' AND name !~ '[[:cntrl:]]'),
  category    text NOT NULL CONSTRAINT businesses_category_check CHECK (category IN (
                'restaurant', 'cafe', 'bar', 'bakery', 'grocery', 'pharmacy', 'hotel',
                'gym', 'bank', 'hair_salon', 'bookstore', 'florist', 'hardware',
                'pet_store', 'dentist', 'laundry', 'gas_station', 'museum', 'cinema',
                'clothing')),
  lat         double precision NOT NULL CONSTRAINT businesses_lat_check CHECK (lat BETWEEN -90 AND 90),
  lon         double precision NOT NULL CONSTRAINT businesses_lon_check CHECK (lon BETWEEN -180 AND 180),
  -- Precision-12 geohash of (lat, lon), computed by the writer (package
  -- geohash). Byte order ("C") makes a cell's points a contiguous range.
  geohash     text COLLATE "C" NOT NULL CONSTRAINT businesses_geohash_check CHECK (geohash ~ '^[0-9b-hjkmnp-z]{12}$'),
  address     text NOT NULL DEFAULT '' CONSTRAINT businesses_address_check
                CHECK (char_length(address) <= 200 AND address !~ '[[:cntrl:]]'),
  city        text NOT NULL DEFAULT '' CONSTRAINT businesses_city_check
                CHECK (char_length(city) <= 100 AND city !~ '[[:cntrl:]]'),
  state       text NOT NULL DEFAULT '' CONSTRAINT businesses_state_check
                CHECK (char_length(state) <= 100 AND state !~ '[[:cntrl:]]'),
  country     text NOT NULL DEFAULT '' CONSTRAINT businesses_country_check CHECK (country ~ '^([A-Z]{2})?$'),
  zip         text NOT NULL DEFAULT '' CONSTRAINT businesses_zip_check
                CHECK (char_length(zip) <= 20 AND zip !~ '[[:cntrl:]]'),
  description text NOT NULL DEFAULT '' CONSTRAINT businesses_description_check
                CHECK (octet_length(description) <= 5120),
  photos      text[] NOT NULL DEFAULT '{}' CONSTRAINT businesses_photos_check CHECK (nearby_photos_ok(photos)),
  version     bigint NOT NULL DEFAULT 1 CONSTRAINT businesses_version_check CHECK (version > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);

-- Proximity reads: live rows by geohash prefix range.
CREATE INDEX businesses_geohash_idx ON businesses (geohash) WHERE deleted_at IS NULL;
-- Change feed for the indexer: every row, deleted ones included, by (updated_at, id).
CREATE INDEX businesses_updated_at_idx ON businesses (updated_at, id);
-- An owner's live businesses by id (keyset pagination).
CREATE INDEX businesses_owner_idx ON businesses (owner_id, id) WHERE deleted_at IS NULL;
-- Purge of soft-deleted rows.
CREATE INDEX businesses_deleted_at_idx ON businesses (deleted_at) WHERE deleted_at IS NOT NULL;

-- A create with an Idempotency-Key records the key, a hash of its input and
-- the record it returned, in the same transaction as the insert.
CREATE TABLE idempotency_keys (
  owner_id     bigint NOT NULL,
  key          text NOT NULL CONSTRAINT idempotency_keys_key_check CHECK (octet_length(key) BETWEEN 1 AND 255),
  request_hash bytea NOT NULL,
  business_id  bigint,
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE businesses;
DROP FUNCTION nearby_photos_ok(text[]);
