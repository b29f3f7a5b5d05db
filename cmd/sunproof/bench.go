package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sunproof/sunproof/ingest/agent"
	"github.com/sunproof/sunproof/ingest/e2e"
	"github.com/sunproof/sunproof/internal/service"
	"github.com/sunproof/sunproof/internal/teststack"
)

// runBench pushes pre-signed readings from an in-process fleet through the
// real stack (Mosquitto → collector process → Kafka → writer process →
// InfluxDB) and reports sustained rates and the services' peak RSS.
func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	ndev := fs.Int("devices", 200, "simulated devices (one MQTT connection each)")
	per := fs.Int("readings", 250, "readings per device")
	lanes := fs.Int("lanes", 4, "collector MQTT connections")
	keep := fs.Bool("keep", false, "keep the run's topics and database")
	colMetrics := fs.String("collector-metrics", "127.0.0.1:9481", "collector's /metrics and /debug/pprof address during the run")
	wrMetrics := fs.String("writer-metrics", "127.0.0.1:9482", "writer's /metrics and /debug/pprof address during the run")
	_ = fs.Parse(args)
	env := teststack.Load()
	log := service.Logger("text")
	ctx, stop := service.SignalContext()
	defer stop()

	n := e2e.NewNames("bench" + teststack.RunID())
	n.CollectorLanes = *lanes
	total := *ndev * *per
	fmt.Printf("bench: %d devices × %d readings = %d readings; run %s\n", *ndev, *per, total, n.Run)
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+n.DB); err != nil {
		return err
	}
	if err := e2e.Provision(ctx, env.Brokers, n, *ndev); err != nil {
		return err
	}
	defer func() {
		e2e.DropSessions(env.MQTTURL, e2e.CollectorClientIDs(n)...)
		if !*keep {
			_, _ = teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+n.DB)
		}
	}()

	// Pre-generate: sign and queue every reading (not timed).
	dir, err := os.MkdirTemp("", "sunproof-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	agents := make([]*agent.Agent, *ndev)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range *ndev {
		wg.Go(func() {
			cfg := e2e.AgentConfig(n, i, env.MQTTURL, dir)
			cfg.Queue.Fsync = "never"
			cfg.MQTT.MaxOutstanding = 2000
			src, err := agent.NewSource(cfg.Source)
			if err == nil {
				agents[i], err = agent.New(cfg, agent.Options{Key: n.DeviceKey(i), Source: src})
			}
			end := time.Now().Add(-time.Minute).Truncate(time.Second)
			for k := 0; err == nil && k < *per; k++ {
				err = agents[i].SampleAt(end.Add(time.Duration(k-*per) * time.Second))
			}
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("pre-generated and queued %d signed readings in %s\n", total, time.Since(t0).Round(time.Millisecond))

	self, err := os.Executable()
	if err != nil {
		return err
	}
	common := []string{"-kafka", strings.Join(env.Brokers, ","), "-readings-topic", n.Readings, "-rejects-topic", n.Rejects}
	col := startProc(self, append([]string{"collect", "-mqtt", env.MQTTURL, "-client-id", n.Group + "-col",
		"-share-group", n.Group, "-lanes", strconv.Itoa(*lanes), "-devices-topic", n.Devices, "-metrics-addr", *colMetrics}, common...))
	wr := startProc(self, append([]string{"write-tsdb", "-influx", env.InfluxURL, "-bucket", n.DB, "-group", n.Group + "-tsdb", "-metrics-addr", *wrMetrics}, common...))
	defer col.stop()
	defer wr.stop()
	time.Sleep(3 * time.Second) // let both join (registry catch-up, group join)

	start := time.Now()
	actx, cancel := context.WithCancel(ctx)
	var awg sync.WaitGroup
	for _, a := range agents {
		awg.Go(func() { _ = a.RunPublisher(actx) })
	}
	acked := func() (s uint64) {
		for _, a := range agents {
			s += a.Queue().AckedThrough()
		}
		return
	}
	var ackedAt time.Duration
	for ackedAt == 0 {
		if acked() >= uint64(total) {
			ackedAt = time.Since(start)
		}
		if ctx.Err() != nil || time.Since(start) > 10*time.Minute {
			cancel()
			return fmt.Errorf("only %d of %d readings acked after %s", acked(), total, time.Since(start).Round(time.Second))
		}
		time.Sleep(50 * time.Millisecond)
	}
	var storedAt time.Duration
	for storedAt == 0 {
		c, err := e2e.Counts(ctx, func(ctx context.Context, db, q string) ([]byte, error) {
			return teststack.InfluxQL(ctx, env.InfluxURL, db, q)
		}, n.DB)
		sum := 0
		for _, v := range c {
			sum += v[0]
		}
		if err == nil && sum >= total {
			storedAt = time.Since(start)
		}
		if ctx.Err() != nil || time.Since(start) > 10*time.Minute {
			cancel()
			return fmt.Errorf("only %d of %d points in InfluxDB after %s (%v)", sum, total, time.Since(start).Round(time.Second), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	awg.Wait()
	colRSS, wrRSS := col.peakRSS(), wr.peakRSS()
	fmt.Printf("MQTT → Kafka (acked end to end): %d readings in %s = %.0f readings/s\n", total, ackedAt.Round(time.Millisecond), float64(total)/ackedAt.Seconds())
	fmt.Printf("MQTT → Kafka → InfluxDB:         %d readings in %s = %.0f readings/s\n", total, storedAt.Round(time.Millisecond), float64(total)/storedAt.Seconds())
	fmt.Printf("peak RSS: collector %.1f MiB, tsdb writer %.1f MiB, load generator (%d agents) %.1f MiB\n",
		colRSS, wrRSS, *ndev, selfPeakRSS())
	log.Debug("bench done")
	return nil
}

type proc struct{ cmd *exec.Cmd }

func startProc(bin string, args []string) *proc {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "SUNPROOF_LOG_LEVEL=warn")
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start", args[0], err)
	}
	return &proc{cmd}
}

func (p *proc) peakRSS() float64 {
	if p.cmd.Process == nil {
		return 0
	}
	return vmHWM(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status"))
}

func (p *proc) stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func selfPeakRSS() float64 { return vmHWM("/proc/self/status") }

// vmHWM reads a process's peak resident set size in MiB from /proc.
func vmHWM(path string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
