// Package e2e holds the end-to-end and crash tests of the ingest path
// against the real local stack: agents → Mosquitto → collector → Kafka →
// writer → InfluxDB. It has no non-test code besides this file and the
// fleet harness the tests and `sunproof bench` share.
package e2e
