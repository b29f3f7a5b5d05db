// Package httpapi is the versioned JSON API of `sunproof serve`: fleet,
// sites, devices, readings (InfluxDB, downsampled), alerts, anchoring
// intervals and per-device window status (the proof store), proof bundles,
// carbon reports, loans, and a public verifier. The OpenAPI 3 document is
// openapi.yaml (served at /v1/openapi.json, copied to docs/api/); a test
// keeps the routes registered here and the documented ones equal.
//
// # Routes and roles
//
//	GET  /v1/openapi.json, /v1/health           public
//	POST /v1/verify                             public, read-only: a proof bundle or carbon report in, the verdict out
//	GET  /v1/me                                 every role
//	GET  /v1/fleet, /v1/fleet/power             admin, installer, bank
//	GET  /v1/sites, /v1/sites/{id}              admin, installer, bank
//	GET  /v1/devices, /v1/devices/{id}          every role (a verifier needs the keys)
//	GET  /v1/devices/{id}/readings              admin, installer, bank
//	GET  /v1/devices/{id}/windows               every role
//	GET  /v1/alerts                             admin, installer, bank
//	GET  /v1/anchors, /v1/anchors/{start_ms}    every role (batch roots are public on chain)
//	GET  /v1/proofs/{device_id}/{seq}           every role
//	GET  /v1/carbon/reports, …/{id}             every role
//	GET  /v1/loans, /v1/loans/{ref}             admin, bank
//
// Scope: admin and verifier see every device; an installer token sees the
// devices whose installer field is its installer (and their sites); a bank
// token sees the devices and sites whose loan_ref is in its portfolio ("*":
// every device with a loan) and those loans. An object outside the scope
// is answered 404, exactly like a missing one.
//
// # Invariants
//
//   - Authentication before anything else: a protected route answers 401
//     without a valid token and 403 for a role it does not serve, before
//     any parameter is parsed or any source is asked.
//   - Tokens are stored as SHA-256 hashes only (Tokens, AddToken). The UI's
//     session cookie is accepted for GET and HEAD only; every write needs
//     the Authorization header, and there are no anonymous writes (the one
//     public POST, /v1/verify, changes nothing).
//   - Bad input is a 4xx with a JSON ErrorBody, never a 5xx: ids are checked
//     against the registry's id syntax before they reach a query, ranges
//     and bucket counts are bounded (MaxRange, MaxPoints, MaxWindowRange),
//     and request bodies are bounded (Config.MaxVerifyBytes). 503 means a
//     source is not configured or failed; 500 only a bug (a panic).
//   - The API and the web UI read through the same data methods (Fleet,
//     Readings, …) with the caller's Principal, so the UI can never show
//     what the API would refuse.
//
// # Sources
//
// The API consumes small interfaces (Config): DeviceRegistry
// (*devices.Registry), ReadingSource (Influx, InfluxQL over HTTP),
// AlertSource (AlertFunc(anomaly.InfluxStore.All)), AnchorStore and
// ProofSource (*anchor.Store), CarbonSource, LoanSource and ReportChecker
// (package carbon), and anchor.ChainReader for online verification. Only
// the registry and the tokens are required.
//
// # Concurrency
//
// A Server is immutable after NewServer and safe for concurrent use; the
// sources must be too.
package httpapi
