-- Business attributes (issue #12): price level, rating, review count and
-- opening hours. Existing rows get no price, no rating, no reviews and
-- unknown hours. As in 00001, each rule of the Go validation is a
-- constraint named <table>_<field>_check, so a violation names the field.
--
-- rating is in tenths of a star (45 is 4.5 stars); NULL is "not rated".
-- hours is the JSON form of package hours; the Go validation is the full
-- check (it needs the tz database), the constraint only the shape.

-- +goose Up
ALTER TABLE businesses
  ADD COLUMN price smallint CONSTRAINT businesses_price_check CHECK (price BETWEEN 1 AND 4),
  ADD COLUMN rating smallint CONSTRAINT businesses_rating_check CHECK (rating BETWEEN 0 AND 50),
  ADD COLUMN review_count integer NOT NULL DEFAULT 0 CONSTRAINT businesses_review_count_check CHECK (review_count >= 0),
  ADD COLUMN hours jsonb CONSTRAINT businesses_hours_check
    CHECK (jsonb_typeof(hours) = 'object' AND hours ? 'time_zone' AND jsonb_typeof(hours -> 'time_zone') = 'string');

-- +goose Down
ALTER TABLE businesses
  DROP COLUMN hours,
  DROP COLUMN review_count,
  DROP COLUMN rating,
  DROP COLUMN price;
