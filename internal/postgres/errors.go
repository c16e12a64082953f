package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nearby/nearby"
)

// translate turns a driver error into a domain error, keeping the driver
// error in the chain for logs: both are wrapped, so errors.As finds the
// *nearby.Error and errors.Is/As still find the cause. what says what was
// being done. nil stays nil; a domain error passes through unchanged.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *nearby.Error
	if errors.As(err, &de) {
		return err
	}
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w: %w", what, nearby.Errorf(nearby.ENOTFOUND, "not found"), err)
	case errors.As(err, &pgErr):
		return fmt.Errorf("%s: %w: %w", what, fromPgError(pgErr), err)
	case errors.Is(err, context.Canceled):
		// The caller gave up; nothing to tell anyone.
		return fmt.Errorf("%s: %w", what, err)
	case errors.As(err, &connErr), errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed),
		pgconn.Timeout(err), pgconn.SafeToRetry(err), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%s: %w: %w", what, unavailable(), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func unavailable() *nearby.Error {
	return nearby.Errorf(nearby.EUNAVAILABLE, "the database is unavailable; retry later")
}

// fromPgError maps a server error to a domain error by SQLSTATE class
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func fromPgError(e *pgconn.PgError) *nearby.Error {
	switch code := e.Code; {
	case code == "23505": // unique_violation
		return nearby.Errorf(nearby.ECONFLICT, "already exists")
	case code == "23514", code == "23502", code == "22001": // check, not null, string too long
		field := strings.TrimSuffix(strings.TrimPrefix(e.ConstraintName, e.TableName+"_"), "_check")
		if field == "" {
			field = e.ColumnName
		}
		if field == "" {
			field = "body"
		}
		return &nearby.Error{Code: nearby.EINVALID, Message: "invalid parameters: " + field,
			Params: []nearby.InvalidParam{{Name: field, Reason: "refused by the database"}}}
	case code == "22021": // character_not_in_repertoire, e.g. a NUL byte
		return nearby.Errorf(nearby.EINVALID, "text holds a character the database cannot store")
	case code == "40001", code == "40P01": // serialization failure, deadlock
		return nearby.Errorf(nearby.EUNAVAILABLE, "the database refused the transaction under contention; retry")
	case strings.HasPrefix(code, "08"), // connection exception
		strings.HasPrefix(code, "53"),  // insufficient resources (too many connections, disk full)
		strings.HasPrefix(code, "57P"), // admin/crash shutdown, cannot connect now
		code == "25006",                // read_only_sql_transaction: a replica took a write
		code == "57014":                // query_canceled (statement timeout)
		return unavailable()
	}
	return nearby.Errorf(nearby.EINTERNAL, "internal error")
}
