// Command sunproof is the central Sunproof binary. Each subcommand is one
// service or tool:
//
//	sunproof collect      MQTT → Kafka collector (validates, dedups, acks end to end)
//	sunproof write-tsdb   Kafka → InfluxDB writer
//	sunproof devices      add | list | show | disable devices in the registry
//	sunproof sim          provision and run a simulated fleet of agents
//	sunproof bench        measure sustained ingest throughput on the local stack
//
// Every service reads its settings from flags whose defaults come from
// SUNPROOF_* environment variables (see `scripts/stack.sh env`), logs with
// slog and serves Prometheus metrics on -metrics-addr.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"collect":       {"run the MQTT → Kafka collector", runCollect},
	"write-tsdb":    {"run the Kafka → InfluxDB writer", runWriteTSDB},
	"devices":       {"manage the device registry (add, list, show, disable)", runDevices},
	"sim":           {"provision and run a simulated fleet", runSim},
	"bench":         {"measure ingest throughput against the local stack", runBench},
	"anchor":        {"anchor readings on chain (run | deploy | register)", runAnchor},
	"proof":         {"print the proof bundle of an anchored reading", runProof},
	"verify":        {"verify a proof bundle against the chain", runVerify},
	"serve":         {"serve the HTTP API (proof bundles)", runServe},
	"analyze":       {"scan readings for faults on a schedule; alerts to InfluxDB, Kafka, webhooks", runAnalyze},
	"eval":          {"evaluate the detectors on a simulated fleet with labelled faults", runEval},
	"carbon":        {"write a verifiable avoided-emissions report (report)", runCarbon},
	"verify-report": {"recompute a carbon report and verify its proofs", runVerifyReport},
	"loans":         {"loan-collateral monitoring (list | show | coverage)", runLoans},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sunproof <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'sunproof <command> -h' for a command's flags.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "sunproof: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "sunproof %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
