// Package deploytest checks the Docker deployment (docker-compose.yml,
// Dockerfile, .env.example, deploy/compose/) against the code, because the
// project's machines have no Docker engine to run it on.
//
// The tests build cmd/sunproof and cmd/sunproof-agent with CGO_ENABLED=0 (as
// the Dockerfile does), check that both are static, and read each
// subcommand's flags from its -h output. Against that inventory they check
// every Sunproof service of the compose file: the subcommand exists (or the
// service carries the label org.sunproof.pending while its command is being
// written), every flag exists and parses, no argument is left for the flag
// package to stop at, every SUNPROOF_* variable is read somewhere in the Go
// source, listen ports equal the flags' defaults and are exposed and health
// checked, and every host:port a service dials is a port the target service
// exposes. They also check that the broker, Kafka, InfluxDB and geth
// settings mirror the local stack (scripts/stack), that every long-running
// service has a health check and a restart policy, that volumes and secrets
// are declared, that no secret is written in a committed file, and that
// Grafana mounts the provisioning of package dashboards.
//
// What they cannot check: that the images start and work together. That
// needs a Docker host; docs/deploy.md says so.
package deploytest
