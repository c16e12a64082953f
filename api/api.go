// Package api holds the OpenAPI description of nearby's HTTP APIs, embedded
// so each service can serve it.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
