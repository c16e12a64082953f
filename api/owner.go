package api

import _ "embed"

// OwnerAPI is api/owner-api.yaml, the OpenAPI description of owner-api.
//
//go:embed owner-api.yaml
var OwnerAPI []byte
