package main

import (
	"bufio"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cpuTime is this process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssSampler reads this process's VmRSS from /proc/self/status at a fixed
// interval and keeps the largest value overall and per phase.
type rssSampler struct {
	mu      sync.Mutex
	phase   string
	max     uint64
	byPhase map[string]uint64
	order   []string
	samples int
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

func startRSS(every time.Duration) *rssSampler {
	s := &rssSampler{byPhase: map[string]uint64{}, done: make(chan struct{})}
	s.sample()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *rssSampler) setPhase(p string) {
	s.sample()
	s.mu.Lock()
	s.phase = p
	if _, ok := s.byPhase[p]; !ok {
		s.byPhase[p] = 0
		s.order = append(s.order, p)
	}
	s.mu.Unlock()
	s.sample()
}

func (s *rssSampler) sample() {
	v := readRSS()
	s.mu.Lock()
	defer s.mu.Unlock()
	if v == 0 {
		return
	}
	s.samples++
	s.max = max(s.max, v)
	if s.phase != "" {
		s.byPhase[s.phase] = max(s.byPhase[s.phase], v)
	}
}

func (s *rssSampler) stop() {
	s.once.Do(func() {
		close(s.done)
		s.wg.Wait()
		s.sample()
	})
}

func (s *rssSampler) result() (uint64, []PhaseRSS, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PhaseRSS
	for _, p := range s.order {
		out = append(out, PhaseRSS{Phase: p, Max: s.byPhase[p]})
	}
	return s.max, out, s.samples
}

// readRSS returns VmRSS in bytes, 0 where /proc is not there.
func readRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// profiler writes a CPU profile of the whole run or of one phase.
type profiler struct {
	f       *os.File
	only    string
	running bool
}

func newProfiler(file, phase string) (*profiler, error) {
	p := &profiler{only: phase}
	if file == "" {
		return p, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	p.f = f
	if phase == "" {
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		p.running = true
	}
	return p, nil
}

// phase starts the profile when the chosen phase begins and stops it when
// another one does.
func (p *profiler) phase(name string) {
	if p.f == nil || p.only == "" {
		return
	}
	switch {
	case p.running && name != p.only:
		pprof.StopCPUProfile()
		p.running = false
	case !p.running && name == p.only:
		p.running = pprof.StartCPUProfile(p.f) == nil
	}
}

// stop ends the profile and closes its file; it may be called again.
func (p *profiler) stop() {
	if p.running {
		pprof.StopCPUProfile()
		p.running = false
	}
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
}
