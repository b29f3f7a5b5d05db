// Package webui is the web UI of `sunproof serve`: server-rendered
// html/template pages with inline SVG charts drawn on the server (chart.go),
// one small script (static/app.js) for the live fleet refresh and the
// verify page's drop zone, and no framework. Templates and assets are
// embedded.
//
// Pages: / (fleet overview, live generation chart), /sites/{id},
// /devices/{id} (plant: power with the clear-sky band, energy, alerts,
// anchoring status of each window with links to its transaction), /alerts,
// /portfolio and /loans/{ref} (bank: coverage ratio per loan, trend,
// alerts), /carbon and /carbon/{id} (reports, verified in the page),
// /anchors and /anchors/{start_ms}, and /verify (public: drop a proof
// bundle or a carbon report and see each step pass or fail; works without
// JavaScript as a form post). /v1/ is the API (package httpapi).
//
// # Invariants
//
//   - Every number a page shows comes from the same httpapi.Server data
//     method the API answers with, called with the signed-in user's
//     principal: a page never shows what the API would refuse, and the
//     browser tests (tests/browser) compare the two. Numbers carry their
//     raw value in a data-value attribute for that comparison.
//   - Sign-in puts the API token in an HttpOnly, SameSite=Strict cookie;
//     pages check the role before rendering (403 page) and send signed-out
//     users to /login. The API accepts the cookie for GET and HEAD only.
//   - The Content-Security-Policy allows only same-origin scripts and
//     styles: no inline script or style attribute is used.
//
// # Concurrency
//
// A UI is immutable after NewUI and safe for concurrent use.
package webui
