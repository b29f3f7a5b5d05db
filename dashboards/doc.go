// Package dashboards holds Sunproof's Grafana dashboards and the Grafana
// provisioning files that load them, and embeds the dashboards so that tests
// and `sunproof serve` can list and serve them.
//
// Layout:
//
//	json/*.json                          one dashboard per file (Grafana JSON model)
//	provisioning/datasources/influxdb.yaml  the InfluxDB data source, uid DatasourceUID
//	provisioning/dashboards/sunproof.yaml   file provider: loads json/ into folder "Sunproof"
//
// docker-compose.yml mounts provisioning/ at /etc/grafana/provisioning and
// json/ at the provider's path.
//
// Invariants, checked by this package's tests:
//
//   - Every query is raw InfluxQL (InfluxDB 1.8.10, docs/decisions/0001-influxdb-1.8.md)
//     and refers only to measurements, fields and tags that are written:
//     measurement "reading" as produced by tsdbwriter.AppendLine
//     (docs/formats/influx.md), and measurement "alert" as assumed by
//     alertLine in schema_test.go until `sunproof analyze` writes it.
//   - Tags are compared with strings or regexes, numeric fields with
//     numbers; multi-value variables are used only in regexes.
//   - Every panel and variable uses the provisioned data source, by uid.
//   - Panel ids are unique within a dashboard; dashboard uids are unique.
//
// Energy is always computed from the lifetime counter energy_wh as the sum,
// per device, of its non-negative steps, so a counter reset loses one step
// instead of producing a huge negative or positive one. The fleet and plant
// dashboards (default range 24 h) step through every reading; the loan and
// carbon dashboards (30 and 90 days) through hourly last values, which is
// lighter on InfluxDB but leaves out the first hour of the range.
//
// Grafana shows operational figures. Certified figures (carbon reports, loan
// coverage ratios) come from anchored data through `sunproof serve` and the
// carbon package; the loan and carbon dashboards say so on their first panel.
//
// To change a dashboard, edit it in a Grafana started from these files,
// export it ("Export as JSON", without "export for sharing externally", which
// would replace the data source uid by an input), and replace the file; the
// tests then check it.
package dashboards
