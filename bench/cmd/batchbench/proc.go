package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
)

// usage is what one command (or a sequence of them) took.
type usage struct {
	wall    time.Duration
	peakRSS int64 // bytes: the largest sum of RSS over the process tree seen
	stdout  []byte
}

// add accounts for a command run after the others: walls add up, the peak is the larger one.
func (u *usage) add(m usage) {
	u.wall += m.wall
	u.peakRSS = max(u.peakRSS, m.peakRSS)
}

// rssEvery is how often the process tree's memory is sampled: Spark's and goka's peaks last
// seconds, not milliseconds.
const rssEvery = 100 * time.Millisecond

// measure runs a command to its end and returns its wall time, peak RSS and stdout.
func measure(ctx context.Context, name string, args ...string) (usage, error) {
	var stdout bytes.Buffer
	cmd := command(ctx, name, args...)
	cmd.Stdout = &stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	peak := int64(0)
	tick := time.NewTicker(rssEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			u := usage{wall: time.Since(start), peakRSS: peak, stdout: stdout.Bytes()}
			if err != nil {
				return u, fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
			}
			return u, nil
		case <-tick.C:
			peak = max(peak, treeRSS(cmd.Process.Pid))
		}
	}
}

// runUntilIdle starts `shopease run` and stops it (SIGTERM: offsets committed, tables closed)
// once no group of the topology lags twice in a row.
func runUntilIdle(ctx context.Context, c config, ns topology.Namespace, args []string) (usage, error) {
	cmd := command(ctx, c.bin, args...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, fmt.Errorf("start %s: %w", c.bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	cfg := cluster.Config{Brokers: []string{c.brokers}, Namespace: ns}
	if err := cfg.Validate(); err != nil {
		return usage{}, err
	}
	peak, zeros := int64(0), 0
	tick := time.NewTicker(rssEvery)
	defer tick.Stop()
	lastPoll := time.Time{}
	for {
		select {
		case err := <-done:
			return usage{wall: time.Since(start), peakRSS: peak}, fmt.Errorf("shopease run ended before the pipeline was idle: %v", err)
		case <-tick.C:
			peak = max(peak, treeRSS(cmd.Process.Pid))
			if time.Since(lastPoll) < 500*time.Millisecond {
				continue
			}
			lastPoll = time.Now()
			lag, err := totalLag(cfg, c.procs)
			if err != nil || lag > 0 {
				zeros = 0
				continue
			}
			if zeros++; zeros < 2 {
				continue
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				return usage{}, fmt.Errorf("stop shopease run: %w", err)
			}
			err = <-done
			u := usage{wall: time.Since(start), peakRSS: peak}
			if err != nil {
				return u, fmt.Errorf("shopease run: %w", err)
			}
			return u, nil
		}
	}
}

// totalLag sums the lag of the groups of procs; an input topic goka has not created yet counts as
// lagging.
func totalLag(cfg cluster.Config, procs []string) (int64, error) {
	total := int64(0)
	for g, ins := range processors.InputsOf(cfg.Namespace, procs) {
		lag, err := cfg.Lag(g, ins...)
		if err != nil {
			return 0, err
		}
		total += lag
	}
	return total, nil
}

// treeRSS is the resident memory of pid and all its descendants (Spark's JVM is a child of the
// python driver).
func treeRSS(pid int) int64 {
	children := map[int][]int{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces: fields start after its closing parenthesis.
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	var sum int64
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		sum += rss(p)
	}
	return sum
}

func rss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// deleteNamespace deletes every topic of ns (the raw and clean topics, changelogs and goka's loop
// topics of one shopease run), so that runs do not fill the shared broker's disk.
func deleteNamespace(brokers string, ns topology.Namespace, log *slog.Logger) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		log.Warn("delete the run's topics", "namespace", ns, "err", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		log.Warn("delete the run's topics", "namespace", ns, "err", err)
		return
	}
	var names []string
	for _, t := range topics.Names() {
		if strings.HasPrefix(t, string(ns)) {
			names = append(names, t)
		}
	}
	if len(names) == 0 {
		return
	}
	if _, err := adm.DeleteTopics(ctx, names...); err != nil {
		log.Warn("delete the run's topics", "namespace", ns, "err", err)
	}
}
